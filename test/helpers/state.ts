import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Reads a state file as another process would: only what has been committed. */
export function query<T>(statePath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(statePath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Changes a state file behind flow's back: what another host, or a test of a lost lease, does. */
export function update(statePath: string, sql: string, ...params: unknown[]): number {
  const db = new Database(statePath, { timeout: 5000 });
  try {
    return db.prepare(sql).run(...params).changes;
  } finally {
    db.close();
  }
}

export const defaultState = (dir: string) => join(dir, '.flow', 'state.db');

/** The run id from the first line flow prints: `flow: run <id> started: ...`. */
export function runIdOf(stderr: string): string {
  const id = /flow: run (\w+) started/.exec(stderr)?.[1];
  if (!id) throw new Error(`no run id in:\n${stderr}`);
  return id;
}
