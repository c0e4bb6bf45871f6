import { StateStoreError } from '../../model/errors.js';
import { shownLocation } from '../state-location.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './pg-migrations.js';
import { PgQueryError, SyncPgClient } from './sync-client.js';

export interface PgDatabase {
  client: SyncPgClient;
  /** The URL as it may be shown: without its password. */
  shown: string;
  schema: string;
  /** The schema's version before this open, and now. */
  migrated: { from: number; to: number };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

// Connects to a PostgreSQL store and brings its schema to this flow's version, as the SQLite file is on open:
// under an advisory lock, so of several processes starting at once the first migrates and the others find it done.
export function openPgDatabase(url: string): PgDatabase {
  const { connection, schema, shown } = parseStoreUrl(url);
  const client = new SyncPgClient(connection, 'flow');
  try {
    const migrated = guardPg(shown, () => migratePg(client, schema, shown));
    client.query(`SET search_path TO ${schema}`);
    return { client, shown, schema, migrated };
  } catch (err) {
    client.close();
    throw err;
  }
}

/** `?schema=NAME` chooses the schema flow's tables live in (default `flow`); the rest of the URL is pg's. */
export function parseStoreUrl(url: string): { connection: string; schema: string; shown: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'flow';
  parsed.searchParams.delete('schema');
  const shown = shownLocation(url);
  if (!SCHEMA_NAME.test(schema)) throw new StateStoreError(shown, `?schema=${schema} is not a plain lower-case name`);
  return { connection: parsed.toString(), schema, shown };
}

/** The version of flow's schema in the store: 0 when it has none yet. */
export function pgSchemaVersion(client: SyncPgClient, schema: string): number {
  // Asked of pg_tables in the statement's own snapshot: to_regclass reads the catalog cache, which after waiting on
  // the advisory lock may not yet show the tables that the process which held it has just committed.
  const exists = client.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_version'`, [schema]).rows.length;
  if (!exists) return 0;
  return Number(client.query(`SELECT version FROM ${schema}.schema_version`).rows[0]?.['version'] ?? 0);
}

/** Migrates the store; answers the versions before and after. */
export function migratePg(client: SyncPgClient, schema: string, shown: string): { from: number; to: number } {
  if (pgSchemaVersion(client, schema) === PG_SCHEMA_VERSION) return { from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION };
  return client.transaction(() => {
    client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`flow migrate ${schema}`]);
    const from = pgSchemaVersion(client, schema);
    if (from > PG_SCHEMA_VERSION)
      throw new StateStoreError(shown, `it was written by a newer flow (schema ${from}; this flow knows ${PG_SCHEMA_VERSION})`);
    if (from === 0) {
      // Another program's schema is not taken over: flow creates its tables only in an empty or new one.
      const tables = client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [schema]).rows[0]?.['n'];
      if (Number(tables) > 0)
        throw new StateStoreError(shown, `schema ${schema} holds tables of another program (not flow's): choose another with ?schema=NAME`);
      // Only when missing: CREATE SCHEMA asks for the database's CREATE privilege even with IF NOT EXISTS, and a
      // schema a DBA made for flow's role is what a role without that privilege is given.
      if (client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]).rows.length === 0)
        client.query(`CREATE SCHEMA ${schema}`);
      client.query(`CREATE TABLE ${schema}.schema_version (version INTEGER NOT NULL)`);
      client.query(`INSERT INTO ${schema}.schema_version VALUES (0)`);
    }
    client.query(`SET LOCAL search_path TO ${schema}`);
    for (let v = from; v < PG_SCHEMA_VERSION; v++) client.query(PG_MIGRATIONS[v]!);
    client.query(`UPDATE schema_version SET version = $1`, [PG_SCHEMA_VERSION]);
    return { from, to: PG_SCHEMA_VERSION };
  });
}

/** Runs fn; a fault PostgreSQL reports becomes one error naming the store (its password masked). */
export function guardPg<T>(shown: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PgQueryError) throw new StateStoreError(shown, err.message);
    throw err;
  }
}
