import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('hands a released slot to the first waiter, in order', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const order: number[] = [];
    const a = s.acquire().then(() => order.push(1));
    const b = s.acquireWithin(1000).then((ok) => order.push(ok ? 2 : -2));
    s.release();
    await a;
    s.release();
    await b;
    expect(order).toEqual([1, 2]);
    expect(s.available).toBe(0);
  });

  it('gives up after waitMs, and a slot released later is not lost', async () => {
    const s = new Semaphore(1);
    expect(await s.acquireWithin(0)).toBe(true);
    const started = Date.now();
    expect(await s.acquireWithin(50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    s.release();
    expect(s.available).toBe(1);
    expect(await s.acquireWithin(0)).toBe(true);
  });
});
