import { DataSource } from 'typeorm';
import { Claim, DeliveryStore } from '../src/delivery/delivery-store';
import { Dispatcher } from './dispatcher-harness';

/**
 * DeliveryStore's claim and what ends a claim, against the dispatcher's real schema. The
 * dispatcher's own scheduler claims only when woken (its poll is an hour), and nothing
 * here wakes it: the test's rows are claimed by the test alone.
 */
describe('DeliveryStore: claims', () => {
  let d: Dispatcher;
  let db: DataSource;
  let store: DeliveryStore;
  let nextHook = 900_000;
  const plan = (p: Partial<Claim> = {}): Claim => ({ limit: 64, perHook: 16, accounts: [], rooms: [], accountRoom: 32, skipHooks: [], leaseMs: 30_000, ...p });

  beforeAll(async () => {
    // A poll interval longer than the test: the scheduler claims only when woken, and nothing wakes it.
    d = await Dispatcher.start('dispatch_store', { DELIVERY_POLL_MS: '3600000' });
    db = d.app.get(DataSource);
    store = d.app.get(DeliveryStore);
  });
  afterAll(() => d.stop());
  beforeEach(() => db.query(`DELETE FROM deliveries`));

  /** `n` due deliveries of one hook of one account (due one millisecond apart, oldest first). */
  async function due(accountId: number, n: number, hookId = nextHook++): Promise<number> {
    await db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, next_attempt_at)
       SELECT 'msg_t' || $1::text || '_' || i, $1::int, $2::int, 'ev-' || i, 'table.loaded', '{}', now() - interval '1 minute' + i * interval '1 millisecond'
       FROM generate_series(1, $3::int) AS i`,
      [hookId, accountId, n],
    );
    return hookId;
  }

  const accountsOf = (rows: { account_id: number }[]) => rows.map((r) => r.account_id);

  it('takes turns across accounts: every account’s first, then every account’s second', async () => {
    await due(1, 10);
    await due(2, 1);
    await due(3, 2);
    const claimed = await store.claim(plan({ limit: 5 }));
    expect(accountsOf(claimed).sort()).toEqual([1, 1, 2, 3, 3]);
  });

  it('keeps each account within its room, and skips the hooks it is told to', async () => {
    const a = await due(1, 10);
    await due(2, 10);
    const skipped = await due(3, 10);
    const claimed = await store.claim(plan({ accounts: [1], rooms: [2], accountRoom: 3, skipHooks: [skipped] }));
    expect(accountsOf(claimed).sort()).toEqual([1, 1, 2, 2, 2]);
    expect(claimed.filter((c) => c.hook_id === a).map((c) => c.webhook_id)).toEqual([`msg_t${a}_1`, `msg_t${a}_2`]); // oldest first
  });

  it('takes no delivery another claim holds, nor one not yet due, and logs each claimed attempt as under way', async () => {
    const hook = await due(1, 3);
    await db.query(`UPDATE deliveries SET next_attempt_at = now() + interval '1 hour' WHERE webhook_id = $1`, [`msg_t${hook}_3`]);
    const first = await store.claim(plan({ perHook: 1 }));
    const second = await store.claim(plan());
    expect(first.map((c) => c.webhook_id)).toEqual([`msg_t${hook}_1`]);
    expect(second.map((c) => c.webhook_id)).toEqual([`msg_t${hook}_2`]);
    expect(await store.claim(plan())).toEqual([]);
    const logged = await db.query(`SELECT webhook_id, attempt, status FROM attempts WHERE hook_id = $1 ORDER BY webhook_id`, [hook]);
    expect(logged).toEqual([
      { webhook_id: `msg_t${hook}_1`, attempt: 1, status: 'pending' },
      { webhook_id: `msg_t${hook}_2`, attempt: 1, status: 'pending' },
    ]);
  });

  it('gives a claim back: due again, its attempt no longer under way', async () => {
    const hook = await due(1, 1);
    const [c] = await store.claim(plan());
    await store.giveBack(c);
    expect(await db.query(`SELECT count(*)::int AS n FROM attempts WHERE hook_id = $1`, [hook])).toEqual([{ n: 0 }]);
    expect((await store.claim(plan())).map((x) => x.webhook_id)).toEqual([c.webhook_id]);
  });

  it('ends the lease of a cancel that a replay overtook, and leaves the replay’s round pending and due', async () => {
    const hook = await due(1, 1);
    const [c] = await store.claim(plan());
    expect(await store.newRound(c.webhook_id, 1)).toEqual({ webhook_id: c.webhook_id, round: 2 });
    expect(await store.endWithoutAttempt(c, { state: 'cancelled', reason: 'hook disabled' })).toBe(false);
    const [row] = await db.query(`SELECT state, round, leased_until, next_attempt_at <= now() AS due FROM deliveries WHERE hook_id = $1`, [hook]);
    expect(row).toEqual({ state: 'pending', round: 2, leased_until: null, due: true });
    expect((await store.claim(plan())).map((x) => [x.webhook_id, x.round])).toEqual([[c.webhook_id, 2]]);
  });

  it('cancels a claimed delivery of the current round', async () => {
    const hook = await due(1, 1);
    const [c] = await store.claim(plan());
    expect(await store.endWithoutAttempt(c, { state: 'cancelled', reason: 'hook deleted' })).toBe(true);
    const [row] = await db.query(`SELECT state, last_error, leased_until, next_attempt_at FROM deliveries WHERE hook_id = $1`, [hook]);
    expect(row).toEqual({ state: 'cancelled', last_error: 'hook deleted', leased_until: null, next_attempt_at: null });
  });
});
