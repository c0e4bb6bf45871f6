import type { IncomingMessage, ServerResponse } from 'node:http';
import { showJson } from '../report/history.js';
import type { RunHistory, StoredEvent } from '../state/run-history.js';
import { listRuns, runDetail } from './runs-api.js';

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
  stream(req, res, watch, { seq: snapshotSeq, data: showJson(detail) }, (after) => history.eventsSince(runId, after, BATCH));
}

/**
 * GET /events: every run's events (their output aside) as they are recorded, for a list of runs kept up to date. First
 * `event: snapshot` with the newest page of runs (as GET /runs gives it), then each event: `id` its number in the
 * state file's order of events, `data` its --json line.
 */
export function streamAllEvents(req: IncomingMessage, res: ServerResponse, history: RunHistory, watch: ChangeWatch): void {
  const snapshotId = history.lastEventId();
  stream(req, res, watch, { seq: snapshotId, data: listRuns(history, new URLSearchParams()) }, (after) =>
    history.allEventsSince(after, BATCH),
  );
}

function stream(
  req: IncomingMessage,
  res: ServerResponse,
  watch: ChangeWatch,
  snapshot: { seq: number; data: unknown },
  since: (after: number) => StoredEvent[],
): void {
  const lastId = Number(req.headers['last-event-id']);
  let cursor = Number.isInteger(lastId) && lastId >= 0 ? lastId : snapshot.seq;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.write(`event: snapshot\nid: ${snapshot.seq}\ndata: ${JSON.stringify(snapshot.data)}\n\n`);
  const send = () => {
    for (;;) {
      const events = since(cursor);
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
