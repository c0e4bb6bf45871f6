// Queries both PostgreSQL adapters (pg-store.ts, pg-history.ts) ask, written once.

/** A run ($1) and every run below it (child runs of `workflow` steps, and theirs), as `tree(id)`. */
export const RUN_TREE = `WITH RECURSIVE tree(id) AS (SELECT $1::text UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)`;

/** The highest number in a run's ($1) sequence of events and output chunks, as `n`; 0 when none. */
export const LAST_EVENT_SEQ = `SELECT GREATEST(coalesce((SELECT max(seq) FROM events WHERE run_id = $1), 0),
                       coalesce((SELECT max(event_seq) FROM logs WHERE run_id = $1), 0)) AS n`;
