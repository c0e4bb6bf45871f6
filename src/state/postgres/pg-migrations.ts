// The PostgreSQL store's schema, one migration per version, in a schema of its own (`flow` unless the URL's
// `?schema=` says otherwise); its `schema_version` table records how far a database has come. The tables are the
// state file's (migrations.ts) as they stand at its version 8 (then 9), in PostgreSQL's types.
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     workflow_name TEXT NOT NULL,
     workflow_path TEXT NOT NULL,
     definition TEXT NOT NULL,
     definition_hash TEXT NOT NULL,
     inputs TEXT NOT NULL,
     status TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     outputs TEXT,
     error TEXT,
     parent_run_id TEXT,
     attempt INTEGER NOT NULL DEFAULT 1,
     owner_host TEXT,
     owner_pid INTEGER,
     owner_start TEXT,
     owner_token TEXT,
     heartbeat_at BIGINT,
     lease_until BIGINT,
     shape TEXT
   );
   CREATE INDEX runs_started ON runs(started_at);
   CREATE INDEX runs_status ON runs(status, started_at);
   CREATE INDEX runs_workflow ON runs(workflow_name, started_at);
   CREATE INDEX runs_parent ON runs(parent_run_id);
   CREATE TABLE steps (
     run_id TEXT NOT NULL REFERENCES runs(id),
     step_id TEXT NOT NULL,
     item INTEGER NOT NULL,
     status TEXT NOT NULL,
     output TEXT,
     outputs TEXT,
     error TEXT,
     reason TEXT,
     attempts INTEGER NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     masked INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (run_id, step_id, item)
   );
   CREATE TABLE attempts (
     run_id TEXT NOT NULL REFERENCES runs(id),
     step_id TEXT NOT NULL,
     item INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     status TEXT NOT NULL,
     error TEXT,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     delay_ms INTEGER,
     run_attempt INTEGER NOT NULL DEFAULT 1,
     ai TEXT,
     PRIMARY KEY (run_id, step_id, item, attempt)
   );
   CREATE INDEX attempts_running ON attempts(run_id) WHERE status = 'running';
   CREATE TABLE cache (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     expires_at TEXT
   );
   CREATE TABLE logs (
     run_id TEXT NOT NULL REFERENCES runs(id),
     step_id TEXT NOT NULL,
     item INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     stream TEXT NOT NULL,
     text TEXT NOT NULL,
     event_seq INTEGER,
     time BIGINT,
     PRIMARY KEY (run_id, step_id, item, attempt, seq)
   );
   CREATE INDEX logs_event_seq ON logs(run_id, event_seq);
   CREATE TABLE workflow_models (
     definition_hash TEXT NOT NULL,
     build TEXT NOT NULL,
     model TEXT NOT NULL,
     PRIMARY KEY (definition_hash, build)
   );
   CREATE TABLE events (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     seq INTEGER NOT NULL,
     type TEXT NOT NULL,
     line TEXT NOT NULL
   );
   CREATE UNIQUE INDEX events_run_seq ON events(run_id, seq);`,
  // 2: step attempts run by workers (the state file's version 9).
  `CREATE TABLE remote_attempts (
     job_id TEXT PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     step_id TEXT NOT NULL,
     item INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     state TEXT NOT NULL,
     scope TEXT NOT NULL,
     worker TEXT,
     token TEXT,
     until BIGINT,
     result TEXT,
     queued_at BIGINT NOT NULL
   );
   CREATE INDEX remote_attempts_run ON remote_attempts(run_id);`,
  // 3: the slots of concurrency caps (the state file's version 10).
  `CREATE TABLE concurrency_slots (
     key TEXT NOT NULL,
     holder TEXT NOT NULL,
     until BIGINT NOT NULL,
     PRIMARY KEY (key, holder)
   );`,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
