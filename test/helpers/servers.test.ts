import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POSTGRES_MISSING, postgresBinaries, startPostgres } from './postgres.js';
import { REDIS_MISSING, redisBinary, startRedis } from './redis.js';

// Each server is checked through a client of its own kind (psql, a raw Redis connection), not through the helper
// that started it: a helper that only thought its server was up would pass its own checks.

const hasPostgres = postgresBinaries() !== undefined;
const hasRedis = redisBinary() !== undefined;
if (!hasPostgres) console.warn(POSTGRES_MISSING);
if (!hasRedis) console.warn(REDIS_MISSING);

/** Everything 127.0.0.1:port answers to `text` until it closes the connection, or the connection's error code. */
function converse(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.on('connect', () => socket.write(text));
    socket.on('data', (data: string) => {
      reply += data;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.on('close', (hadError) => hadError || resolve(reply));
  });
}

describe('throwaway database servers for tests', () => {
  it.skipIf(!hasPostgres)(
    'PostgreSQL: psql gets in as flow to database flow on 127.0.0.1; stop() ends it and removes its directory',
    async () => {
      const server = await startPostgres();
      try {
        expect(server.url).toBe(`postgres://flow@127.0.0.1:${server.port}/flow`);
        const query = "select current_user, current_database(), current_setting('listen_addresses'), current_setting('fsync')";
        const psql = spawnSync('psql', ['-X', server.url, '-Atc', query], {
          encoding: 'utf8',
          env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
        });
        expect(psql.error).toBeUndefined();
        expect(psql.stderr).toBe('');
        expect(psql.stdout).toBe('flow|flow|127.0.0.1|off\n');
        // The unix socket is in the server's own directory, not in /var/run/postgresql where a system server's is.
        expect(existsSync(join(server.dir, `.s.PGSQL.${server.port}`))).toBe(true);
        expect(existsSync(join(server.dataDir, 'PG_VERSION'))).toBe(true);
      } finally {
        await server.stop();
      }
      expect(await converse(server.port, '')).toBe('ECONNREFUSED');
      expect(existsSync(server.dir)).toBe(false);
    },
  );

  it.skipIf(!hasRedis)(
    'Redis: answers PING, keeps an append-only file and never evicts; stop() ends it and removes its directory',
    async () => {
      const server = await startRedis();
      try {
        expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
        const reply = await converse(
          server.port,
          'PING\r\nCONFIG GET appendonly\r\nCONFIG GET maxmemory-policy\r\nCONFIG GET save\r\nQUIT\r\n',
        );
        expect(reply).toBe(
          [
            '+PONG',
            ...['*2', '$10', 'appendonly', '$3', 'yes'],
            ...['*2', '$16', 'maxmemory-policy', '$10', 'noeviction'],
            ...['*2', '$4', 'save', '$0', ''],
            '+OK',
            '',
          ].join('\r\n'),
        );
        // --dir is the temp directory: Redis 7 keeps its append-only files in appendonlydir there.
        expect(existsSync(join(server.dir, 'appendonlydir'))).toBe(true);
      } finally {
        await server.stop();
      }
      expect(await converse(server.port, '')).toBe('ECONNREFUSED');
      expect(existsSync(server.dir)).toBe(false);
    },
  );
});
