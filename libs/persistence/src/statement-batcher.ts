/**
 * Runs many small writes as one statement. Calls that arrive while earlier batches are
 * running wait and go together in the next one, so the batch size follows the load:
 * an idle service still runs a lone call at the next turn of the event loop, a busy one
 * pays one Postgres round trip (and one commit) for hundreds of rows instead of one each.
 * Measured in bench/dispatch: a round trip per delivery was the dispatcher's largest cost
 * (socket writes), not the SQL.
 *
 * `run` gets the items and must return one result per item, in order. If a batch fails,
 * each of its items is run again alone, so one bad item fails only its own caller.
 */
export class StatementBatcher<I, O = void> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: { maxBatch?: number; parallel?: number } = {},
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        // setImmediate, not a microtask: the callers started in this turn of the loop
        // (a fetched batch of messages) join the same statement.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    const maxBatch = this.options.maxBatch ?? 500;
    while (this.running < (this.options.parallel ?? 2) && this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      this.running++;
      void this.execute(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async execute(batch: typeof this.queue): Promise<void> {
    try {
      const out = await this.run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      for (const b of batch) {
        try {
          b.resolve((await this.run([b.item]))[0]);
        } catch (e) {
          b.reject(e);
        }
      }
    }
  }
}
