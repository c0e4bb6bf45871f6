import type { IncomingMessage, ServerResponse } from 'node:http';
import { showJson } from '../report/history.js';
import type { RunHistory } from '../state/run-history.js';
import { runDetail } from './runs-api.js';

/** How often the server asks SQLite whether another connection committed (PRAGMA data_version). */
export const CHANGE_POLL_MS = 50;
/** A comment line this often keeps proxies and browsers from closing a quiet stream. */
export const PING_MS = 15_000;
const BATCH = 500;

/**
 * Calls its listeners when another process commits to the state file: one cheap pragma per tick, and only while
 * someone listens. Every stream of the server shares it.
 */
export class ChangeWatch {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private seen = 0;

  constructor(private readonly history: RunHistory) {}

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.seen = this.history.changeCounter();
      this.timer = setInterval(() => this.tick(), CHANGE_POLL_MS);
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  close(): void {
    this.listeners.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.history.changeCounter();
    if (now === this.seen) return;
    this.seen = now;
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * GET /runs/{id}/events: server-sent events. First the run as `flow show --json` gives it (`event: snapshot`, its id
 * the sequence number it reflects), then every event after that, or after Last-Event-ID when the client reconnects:
 * each `data` is exactly the event's --json line and each `id` its number in the run's sequence.
 */
export function streamRunEvents(req: IncomingMessage, res: ServerResponse, history: RunHistory, watch: ChangeWatch, runId: string): void {
  const snapshotSeq = history.lastEventSeq(runId);
  const detail = runDetail(history, runId);
  const lastId = Number(req.headers['last-event-id']);
  let cursor = Number.isInteger(lastId) && lastId >= 0 ? lastId : snapshotSeq;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.write(`event: snapshot\nid: ${snapshotSeq}\ndata: ${JSON.stringify(showJson(detail))}\n\n`);
  const send = () => {
    for (;;) {
      const events = history.eventsSince(runId, cursor, BATCH);
      if (events.length === 0) return;
      res.write(events.map((e) => `id: ${e.seq}\ndata: ${e.line}\n\n`).join(''));
      cursor = events.at(-1)!.seq;
      if (events.length < BATCH) return;
    }
  };
  send();
  const stop = watch.listen(send);
  const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
  res.on('close', () => {
    stop();
    clearInterval(ping);
  });
}
