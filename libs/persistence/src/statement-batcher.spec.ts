import { StatementBatcher } from './statement-batcher';

describe('StatementBatcher', () => {
  it('runs the calls of one turn of the event loop as one batch, each getting its own result', async () => {
    const batches: number[][] = [];
    const b = new StatementBatcher<number, number>(async (xs) => (batches.push(xs), xs.map((x) => x * 2)));
    await expect(Promise.all([1, 2, 3].map((x) => b.submit(x)))).resolves.toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('gathers calls that arrive while a batch runs into the next one, at most `parallel` batches at once', async () => {
    const batches: number[][] = [];
    let running = 0;
    let most = 0;
    const b = new StatementBatcher<number, number>(
      async (xs) => {
        batches.push(xs);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return xs;
      },
      { parallel: 1, maxBatch: 100 },
    );
    const first = b.submit(0);
    await new Promise((r) => setImmediate(r)); // the first batch is under way
    const rest = Promise.all([1, 2, 3, 4].map((x) => b.submit(x)));
    await Promise.all([first, rest]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
    expect(most).toBe(1);
  });

  it('splits at maxBatch', async () => {
    const sizes: number[] = [];
    const b = new StatementBatcher<number>(async (xs) => (sizes.push(xs.length), xs.map(() => undefined)), { maxBatch: 2, parallel: 5 });
    await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('fails only the caller whose item breaks the statement', async () => {
    const b = new StatementBatcher<number, number>(async (xs) => {
      if (xs.includes(13)) throw new Error('bad item 13');
      return xs;
    });
    const results = await Promise.allSettled([12, 13, 14].map((x) => b.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('bad item 13');
  });
});
