import { DataSource } from 'typeorm';
import { deleteInBatches } from './batched-delete';

/** A DataSource whose DELETE removes the next count of `affected`, recording each call's parameters. */
function fakeDb(affected: number[]) {
  const calls: unknown[][] = [];
  const db = { query: async (_sql: string, params: unknown[]) => (calls.push(params), [[], affected[calls.length - 1] ?? 0]) } as unknown as DataSource;
  return { db, calls };
}

describe('deleteInBatches', () => {
  it.each([
    { scenario: 'nothing to remove: one statement', affected: [0], batch: 100, calls: 1, removed: 0 },
    { scenario: 'less than a batch: one statement', affected: [40], batch: 100, calls: 1, removed: 40 },
    { scenario: 'full batches then a short one: repeats until the short one', affected: [100, 100, 7], batch: 100, calls: 3, removed: 207 },
    { scenario: 'exactly full batches: one more statement finds nothing', affected: [100, 100, 0], batch: 100, calls: 3, removed: 200 },
  ])('Test scenario: $scenario', async ({ affected, batch, calls, removed }) => {
    const fake = fakeDb(affected);
    expect(await deleteInBatches(fake.db, 'DELETE ...', ['age'], { batch })).toBe(removed);
    expect(fake.calls).toHaveLength(calls);
    expect(fake.calls[0]).toEqual([batch, 'age']);
  });

  it('Test scenario: the service is stopping: no batch after the one in progress', async () => {
    const fake = fakeDb([100, 100, 100]);
    const removed = await deleteInBatches(fake.db, 'DELETE ...', [], { batch: 100, stopping: () => fake.calls.length >= 1 });
    expect([removed, fake.calls.length]).toEqual([100, 1]);
  });
});
