// The state file's schema, one migration per version; PRAGMA user_version records how far a file has come.
export const MIGRATIONS: readonly string[] = [
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
     owner_pid INTEGER
   );
   CREATE INDEX runs_started ON runs(started_at);
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
     PRIMARY KEY (run_id, step_id, item, attempt)
   );
   CREATE TABLE cache (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     expires_at TEXT
   );`,
  // 2: resume (the run's attempt), one owner per run (a lease with a heartbeat), stored output, history queries.
  `ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE runs ADD COLUMN owner_host TEXT;
   ALTER TABLE runs ADD COLUMN owner_start TEXT;
   ALTER TABLE runs ADD COLUMN owner_token TEXT;
   ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
   ALTER TABLE attempts ADD COLUMN run_attempt INTEGER NOT NULL DEFAULT 1;
   CREATE INDEX runs_status ON runs(status, started_at);
   CREATE INDEX runs_workflow ON runs(workflow_name, started_at);
   CREATE INDEX runs_parent ON runs(parent_run_id);
   CREATE TABLE logs (
     run_id TEXT NOT NULL REFERENCES runs(id),
     step_id TEXT NOT NULL,
     item INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     stream TEXT NOT NULL,
     text TEXT NOT NULL,
     PRIMARY KEY (run_id, step_id, item, attempt, seq)
   ) WITHOUT ROWID;`,
  // 3: a result whose output held a secret is stored masked and marked, so a resume runs its step again.
  // Results recorded before it are marked where they show a mask.
  `ALTER TABLE steps ADD COLUMN masked INTEGER NOT NULL DEFAULT 0;
   UPDATE steps SET masked = 1 WHERE instr(coalesce(output, '') || coalesce(outputs, ''), '***') > 0;`,
  // 4: the validated model of each workflow text, so a resume of a large workflow need not parse and check it again.
  `CREATE TABLE workflow_models (
     definition_hash TEXT NOT NULL,
     build TEXT NOT NULL,
     model TEXT NOT NULL,
     PRIMARY KEY (definition_hash, build)
   ) WITHOUT ROWID;`,
  // 5: digests of each step's definition, so a resume can tell what changed in a text recorded with secrets masked.
  // and the attempts a crashed driver left running, found by a claim without reading every attempt of a long run.
  `ALTER TABLE runs ADD COLUMN shape TEXT;
   CREATE INDEX attempts_running ON attempts(run_id) WHERE status = 'running';`,
  // 6: what each attempt's model calls took (AI steps), failed attempts' too, so a run's spend is the sum of its attempts.
  `ALTER TABLE attempts ADD COLUMN ai TEXT;`,
  // 7: every event of a run, numbered per run with its output chunks, so another process can follow the run
  // (flow logs --follow, the server's event streams) and replay it from any point; `id` orders all runs' events.
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     seq INTEGER NOT NULL,
     type TEXT NOT NULL,
     line TEXT NOT NULL
   );
   CREATE UNIQUE INDEX events_run_seq ON events(run_id, seq);
   ALTER TABLE logs ADD COLUMN event_seq INTEGER;
   ALTER TABLE logs ADD COLUMN time INTEGER;
   CREATE INDEX logs_event_seq ON logs(run_id, event_seq);`,
  // 8: a lease with an end, so that the owner of a run is known across hosts whatever their settings.
  `ALTER TABLE runs ADD COLUMN lease_until INTEGER;`,
  // 9: step attempts run by workers (flow run --remote): queued, claimed under a worker's token, done or revoked.
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
     until INTEGER,
     result TEXT,
     queued_at INTEGER NOT NULL
   );
   CREATE INDEX remote_attempts_run ON remote_attempts(run_id);`,
  // 10: the slots of `concurrency: {key, limit}` caps, each held by one attempt until it ends or its lease runs out.
  `CREATE TABLE concurrency_slots (
     key TEXT NOT NULL,
     holder TEXT NOT NULL,
     until INTEGER NOT NULL,
     PRIMARY KEY (key, holder)
   ) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
