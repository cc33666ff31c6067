import { ByteBudget } from './byte-budget';

describe('ByteBudget', () => {
  it('lets requests through while their bytes fit, then in order as bytes come back', async () => {
    const budget = new ByteBudget(10);
    const order: string[] = [];
    await budget.take(6);
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
});
