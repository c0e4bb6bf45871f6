// The slots of `concurrency: {key, limit}` caps, kept in the store that every run sharing the cap writes to: so the
// cap holds across processes and machines. A slot is held by one attempt until it is released or its lease runs
// out (a holder that died gives its slot back by not renewing it).
export interface ConcurrencySlotStore {
  /** Takes a slot of `key` for `holder` when fewer than `limit` live slots are held; true when it has one. */
  acquireSlot(key: string, holder: string, limit: number, until: number, now: number): boolean;
  /** Extends a held slot; false when it is no longer held (it ran out and was taken). */
  renewSlot(key: string, holder: string, until: number): boolean;
  releaseSlot(key: string, holder: string): void;
}
