/**
 * Gathers the records of small posts to the same integration that arrive in the same
 * turn of the event loop, and sends them as one message: `add` resolves when the message
 * holding its records is sent (for the gateway: acknowledged by JetStream), or rejects
 * with its error. Busy, one message then carries tens of posts, so JetStream, the
 * gateway's publish path and the load-simulator's consumer each pay per message what
 * they paid per post (bench/ingest); idle, a lone post goes at the next turn.
 *
 * A message holds at most `maxBytes` of posted JSON: a post that would overflow it
 * starts the next one.
 */
export class RecordBatcher<K, C> {
  private readonly open = new Map<K, Batch<C>>();
  private scheduled = false;

  constructor(
    private readonly maxBytes: number,
    private readonly send: (context: C, records: Record<string, unknown>[]) => Promise<void>,
  ) {}

  /** `context` travels with the message: the one of the batch's first post is used. */
  add(key: K, context: C, records: Record<string, unknown>[], bytes: number): Promise<void> {
    let batch = this.open.get(key);
    if (batch && batch.bytes + bytes > this.maxBytes) {
      this.open.delete(key);
      this.flush(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = new Batch(context);
      this.open.set(key, batch);
      if (!this.scheduled) {
        // setImmediate, not a microtask: the posts whose token lookup came back together
        // (one query, see IngestService) are parsed in this turn and join the same message.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          for (const b of this.open.values()) this.flush(b);
          this.open.clear();
        });
      }
    }
    for (const r of records) batch.records.push(r);
    batch.bytes += bytes;
    return batch.sent;
  }

  private flush(batch: Batch<C>): void {
    try {
      this.send(batch.context, batch.records).then(batch.resolve, batch.reject);
    } catch (err) {
      batch.reject(err);
    }
  }
}

class Batch<C> {
  readonly records: Record<string, unknown>[] = [];
  bytes = 0;
  readonly sent: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;

  constructor(readonly context: C) {
    this.sent = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
