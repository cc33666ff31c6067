import { DataSource } from 'typeorm';

/** Rows one retention statement removes at most: each batch is its own short transaction. */
export const DELETE_BATCH = 5000;

export interface BatchedDeleteOptions {
  /** Rows per statement ($1 of the statement); DELETE_BATCH by default. */
  batch?: number;
  /** Asked before each batch: a service shutting down stops after the batch in progress. */
  stopping?: () => boolean;
}

/**
 * Runs `statement`, a DELETE that removes at most `$1` rows (`... WHERE key IN (SELECT key
 * ... LIMIT $1)`), again and again until a run removes fewer than a batch, and returns how
 * many rows went. Batches rather than one DELETE: a month of rows removed at once would
 * hold its locks and its WAL in one long transaction, and block the writers of the same
 * table for as long. Between batches the event loop gets a turn, so the service's own
 * work (HTTP, NATS) is not held up by a long sweep. `params` are $2 onwards.
 */
export async function deleteInBatches(db: DataSource, statement: string, params: unknown[] = [], options: BatchedDeleteOptions = {}): Promise<number> {
  const batch = options.batch ?? DELETE_BATCH;
  let removed = 0;
  for (;;) {
    if (options.stopping?.()) return removed;
    // TypeORM answers a DELETE on Postgres with [rows, affected].
    const [, affected] = await db.query<[unknown[], number]>(statement, [batch, ...params]);
    removed += affected;
    if (affected < batch) return removed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
