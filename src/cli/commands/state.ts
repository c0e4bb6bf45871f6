import { EXIT } from '../../model/errors.js';
import { isPostgresUrl, shownLocation } from '../../state/state-location.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';

export interface StateOptions {
  state?: string;
}

// `flow state migrate`: the schema brought to this flow's version now, for whoever runs migrations by hand (a
// deploy step, a database owner) rather than at the first run. A store written by a newer flow is refused.
export async function stateMigrateCommand(options: StateOptions, io: CommandIO): Promise<number> {
  const location = statePath(options.state, io);
  const { from, to } = isPostgresUrl(location) ? await migratePostgres(location) : await migrateFile(location);
  io.stdout(
    from === to
      ? `${shownLocation(location)}: schema ${to}, already this flow's`
      : `${shownLocation(location)}: schema ${from} → ${to}${from === 0 ? ' (created)' : ''}`,
  );
  return EXIT.ok;
}

async function migratePostgres(url: string): Promise<{ from: number; to: number }> {
  const { client, migrated } = (await import('../../state/postgres/pg-open.js')).openPgDatabase(url);
  client.close();
  return migrated;
}

async function migrateFile(path: string): Promise<{ from: number; to: number }> {
  const { fileSchemaVersion, openDatabase } = await import('../../state/sqlite-open.js');
  const from = fileSchemaVersion(path);
  const db = openDatabase(path);
  const to = Number(db.pragma('user_version', { simple: true }));
  db.close();
  return { from, to };
}
