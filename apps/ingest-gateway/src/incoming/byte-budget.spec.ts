import { ByteBudget } from './byte-budget';

describe('ByteBudget', () => {
  it('lets requests through while their bytes fit, then in order as bytes come back', async () => {
    const budget = new ByteBudget(10);
    const order: string[] = [];
    expect(await budget.take(6)).toBe('granted');
    const b = budget.take(6).then(() => order.push('b'));
    const c = budget.take(1).then(() => order.push('c'));
    await Promise.resolve();
    expect(order).toEqual([]); // c fits, but waits behind b: first come, first served
    budget.give(6);
    await Promise.all([b, c]);
    expect(order).toEqual(['b', 'c']);
  });

  it('gives a request larger than the budget the whole budget', async () => {
    const budget = new ByteBudget(10);
    await budget.take(50);
    let second = false;
    const p = budget.take(1).then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    budget.give(50);
    await p;
    expect(second).toBe(true);
  });

  it('ends a wait at its timeout, holding nothing, and lets those behind it through', async () => {
    const budget = new ByteBudget(10);
    await budget.take(8);
    const big = budget.take(5, { timeoutMs: 20 });
    const small = budget.take(2);
    expect(await big).toBe('timeout');
    expect(await small).toBe('granted'); // no longer behind the big one
    expect(budget.inUse).toBe(10);
  });

  it('ends a wait whose request went away, holding nothing: 100 of them leak no byte', async () => {
    const budget = new ByteBudget(10);
    await budget.take(10);
    const gone = Array.from({ length: 100 }, () => new AbortController());
    const waits = gone.map((c) => budget.take(3, { signal: c.signal }));
    for (const c of gone) c.abort();
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['aborted']));
    budget.give(10);
    expect(budget.inUse).toBe(0);
    expect(await budget.take(10, { timeoutMs: 0 })).toBe('granted');
  });

  it('answers an already aborted signal at once', async () => {
    const budget = new ByteBudget(10);
    expect(await budget.take(1, { signal: AbortSignal.abort() })).toBe('aborted');
    expect(budget.inUse).toBe(0);
  });
});
