import { ErrorBodies, Subjects, validateEvent } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { SimulatorHarness, StoredLoad } from './simulator-harness';

interface Schedule {
  id: number;
  client_id: number;
  destination_id: number | null;
  integration_name: string;
  tables: string[];
  outcome: 'loaded' | 'rejected';
  num_rows: number;
  every: string;
  next_run_at: string;
  last_run_at: string | null;
  created_at: string;
}

/** Simulated and scheduled loads (SPEC §7), against real NATS and Postgres. */
describe('simulations', () => {
  let h: SimulatorHarness;
  let a: { id: number; key: string };
  let b: { id: number; key: string };

  beforeAll(async () => {
    // Schedules of 1s keep these tests short; the 1-minute minimum has its own tests below.
    h = await SimulatorHarness.start('simulations', { SCHEDULE_MIN_EVERY_MS: '1000' });
    a = await h.account();
    b = await h.account();
  });
  afterAll(() => h?.stop());

  const body = (clientId: number, extra: Record<string, unknown> = {}) => ({ client_id: clientId, integration_name: 'shopify', tables: ['orders'], outcome: 'loaded', ...extra });

  /** The events of one schedule, grouped into runs by the due time their ids carry (`sched-<id>-<due ms>-<table>`). */
  async function runsOf(s: Schedule): Promise<{ due: number; loads: StoredLoad[] }[]> {
    const runs = new Map<number, StoredLoad[]>();
    for (const l of await h.loads(s.client_id)) {
      const due = new RegExp(`^sched-${s.id}-(\\d+)-\\d+$`).exec(l.event.event_id ?? '')?.[1];
      if (due) runs.set(Number(due), [...(runs.get(Number(due)) ?? []), l]);
    }
    return [...runs].map(([due, loads]) => ({ due, loads }));
  }

  async function schedule(token: string, extra: Record<string, unknown>): Promise<Schedule> {
    const res = await h.api<Schedule>('POST', '/v1/schedules', token, { ...body(extra.client_id as number), ...extra });
    expect(res.status).toBe(201);
    return res.body;
  }

  describe('POST /v1/simulations', () => {
    it('publishes one table.loaded per table, with the returned ids as event and message ids', async () => {
      const res = await h.api<{ event_ids: string[] }>('POST', '/v1/simulations', a.key, body(a.id, { tables: ['orders', 'customers'], destination_id: 3 }));
      expect(res.status).toBe(202);
      const ids = res.body.event_ids;
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(2);

      // The 202 comes after the stream stored them: no waiting.
      const loads = (await h.loads(a.id)).filter((l) => ids.includes(String(l.event.event_id)));
      expect(loads.map((l) => [l.subject, l.event.table_name, l.event.event_id, l.msgId])).toEqual([
        [Subjects.TableLoaded, 'orders', ids[0], ids[0]],
        [Subjects.TableLoaded, 'customers', ids[1], ids[1]],
      ]);
      for (const l of loads) {
        expect(validateEvent(Subjects.TableLoaded, l.event).ok).toBe(true);
        expect(l.event).toMatchObject({ client_id: a.id, integration_name: 'shopify', destination_id: 3, num_rows: 100, num_rows_rejected: 0 });
        expect(Math.abs(Date.parse(String(l.event.minimum_sdc_batched_at)) - Date.now())).toBeLessThan(60_000);
      }
    });

    it('publishes a rejected batch on table.rejected, every row rejected', async () => {
      const res = await h.api<{ event_ids: string[] }>('POST', '/v1/simulations', a.key, body(a.id, { outcome: 'rejected', num_rows: 42 }));
      expect(res.status).toBe(202);
      const [load] = (await h.loads(a.id)).filter((l) => l.event.event_id === res.body.event_ids[0]);
      expect(load.subject).toBe(Subjects.TableRejected);
      expect(validateEvent(Subjects.TableRejected, load.event).ok).toBe(true);
      expect(load.event).toMatchObject({ num_rows: 0, num_rows_rejected: 42, error_message: 'simulated rejection' });
      expect(load.event.destination_id).toBeUndefined();
    });

    it('lets the admin token simulate for any client', async () => {
      const res = await h.api<{ event_ids: string[] }>('POST', '/v1/simulations', TEST_ADMIN_TOKEN, body(987_654));
      expect(res.status).toBe(202);
      expect((await h.loads(987_654)).map((l) => l.event.event_id)).toEqual(res.body.event_ids);
    });

    it("answers 404 to a key naming another account, and publishes nothing", async () => {
      const res = await h.api('POST', '/v1/simulations', a.key, body(b.id));
      expect(res).toEqual({ status: 404, body: ErrorBodies.notFound });
      // Publishing happens before the answer, so anything published would be there now.
      expect(await h.loads(b.id)).toEqual([]);
    });

    it.each([
      ['no client_id', { client_id: undefined }],
      ['client_id as a string', { client_id: '1' }],
      ['client_id 0', { client_id: 0 }],
      ['destination_id 0', { destination_id: 0 }],
      ['destination_id 1.5', { destination_id: 1.5 }],
      ['empty integration_name', { integration_name: '' }],
      ['integration_name of 256 characters', { integration_name: 'x'.repeat(256) }],
      ['no tables', { tables: [] }],
      ['101 tables', { tables: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
      ['an empty table name', { tables: ['orders', ''] }],
      ['a table name of 256 characters', { tables: ['x'.repeat(256)] }],
      ['tables not an array', { tables: 'orders' }],
      ['a table name not a string', { tables: [1] }],
      ['unknown outcome', { outcome: 'partial' }],
      ['negative num_rows', { num_rows: -1 }],
      ['fractional num_rows', { num_rows: 1.5 }],
      ['num_rows over 10^9', { num_rows: 1e9 + 1 }],
      ['an unknown field', { extra: 1 }],
      ['every (a schedule field)', { every: '5m' }],
    ])('answers 400 {"error":...} to %s', async (_, extra) => {
      const res = await h.api<{ error: unknown }>('POST', '/v1/simulations', a.key, body(a.id, extra));
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe('string');
    });

    it('answers 400 {"error":...} to malformed JSON', async () => {
      const res = await h.api<{ error: unknown }>('POST', '/v1/simulations', a.key, '{"client_id":');
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe('string');
    });
  });

  it('describes its routes at /docs', async () => {
    const docs = await h.api<{ paths: Record<string, unknown> }>('GET', '/docs');
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/simulations', '/v1/schedules', '/v1/schedules/{id}']));
  });

  describe('authentication', () => {
    it.each([
      ['POST', '/v1/simulations'],
      ['POST', '/v1/schedules'],
      ['GET', '/v1/schedules'],
      ['DELETE', '/v1/schedules/1'],
    ])('answers 401 to %s %s without a key, with an unknown key or a non-bearer header', async (method, path) => {
      const json = method === 'POST' ? { ...body(a.id), every: '1h' } : undefined;
      for (const token of [undefined, 'phk_not-a-key', `${TEST_ADMIN_TOKEN}x`]) {
        expect(await h.api(method, path, token, json)).toEqual({ status: 401, body: ErrorBodies.unauthorized });
      }
      const res = await fetch(h.url + path, { method, headers: { authorization: a.key } });
      expect(res.status).toBe(401);
    });
  });

  describe('schedules', () => {
    // Each test starts with no schedule: one that failed midway must not leave its schedule to the next.
    afterEach(async () => {
      for (const { id } of (await h.api<Schedule[]>('GET', '/v1/schedules', TEST_ADMIN_TOKEN)).body) await h.api('DELETE', `/v1/schedules/${id}`, TEST_ADMIN_TOKEN);
    });

    it('repeats a simulation every interval', async () => {
      const s = await schedule(a.key, { client_id: a.id, tables: ['orders', 'customers'], every: '1s' });
      expect(s).toMatchObject({ client_id: a.id, destination_id: null, integration_name: 'shopify', tables: ['orders', 'customers'], outcome: 'loaded', num_rows: 100, every: '1s', last_run_at: null });
      expect(Date.parse(s.next_run_at) - Date.parse(s.created_at)).toBeGreaterThanOrEqual(990);

      // A run publishes its tables one after the other: the stream may be read between
      // the two, so wait until the first three runs are whole, and judge only those.
      const runs = await waitFor('three whole runs', async () => {
        const r = (await runsOf(s)).sort((x, y) => x.due - y.due).slice(0, 3);
        return r.length === 3 && r.every((run) => run.loads.length >= 2) && r;
      });
      for (const run of runs) {
        expect(run.loads.map((l) => [l.subject, l.event.table_name])).toEqual([[Subjects.TableLoaded, 'orders'], [Subjects.TableLoaded, 'customers']]);
        for (const l of run.loads) expect(l.msgId).toBe(l.event.event_id);
      }
      // Due exactly one interval apart (the cadence does not drift with the 100 ms
      // ticks), and each run published at its due time, never early, and well before the
      // next one. Gaps between publish times alone would vary with the tick's delay.
      for (let i = 1; i < runs.length; i++) expect(runs[i].due - runs[i - 1].due).toBe(1000);
      for (const run of runs) {
        expect(run.loads[0].time.getTime()).toBeGreaterThanOrEqual(run.due);
        expect(run.loads[0].time.getTime()).toBeLessThan(run.due + 1000);
      }
      expect((await h.api('DELETE', `/v1/schedules/${s.id}`, a.key)).status).toBe(200);
    });

    it('runs once, not a burst, when it fell far behind, and schedules from now', async () => {
      const s = await schedule(a.key, { client_id: a.id, every: '1h', outcome: 'rejected' });
      // As after a day of downtime: 24 runs were missed.
      await h.db.query(`UPDATE load_simulator.schedules SET next_run_at = now() - interval '1 day' WHERE id = $1`, [s.id]);
      const after = await waitFor('the catch-up run', async () => {
        const [mine] = (await h.api<Schedule[]>('GET', '/v1/schedules', a.key)).body.filter((x) => x.id === s.id);
        return mine.last_run_at !== null && mine;
      });
      expect(Date.parse(after.next_run_at) - Date.parse(String(after.last_run_at))).toBeGreaterThan(3_600_000 - 5_000);
      const runs = await runsOf(s);
      expect(runs).toHaveLength(1);
      expect(runs[0].loads[0].subject).toBe(Subjects.TableRejected);
      expect((await h.api('DELETE', `/v1/schedules/${s.id}`, a.key)).status).toBe(200);
    });

    it('keeps running across a restart', async () => {
      const s = await schedule(b.key, { client_id: b.id, every: '1s' });
      await waitFor('a first run', async () => (await runsOf(s)).length >= 1);
      await h.restart();
      const before = (await runsOf(s)).length;
      await waitFor('runs by the new app', async () => (await runsOf(s)).length >= before + 2, { timeoutMs: 15_000 });
      const listed = await h.api<Schedule[]>('GET', '/v1/schedules', b.key);
      expect(listed.body.map((x) => x.id)).toContain(s.id);
      expect((await h.api('DELETE', `/v1/schedules/${s.id}`, b.key)).status).toBe(200);
    });

    it('stops when deleted', async () => {
      const s = await schedule(a.key, { client_id: a.id, every: '1s' });
      await waitFor('a first run', async () => (await runsOf(s)).length >= 1);
      const res = await h.api<Schedule>('DELETE', `/v1/schedules/${s.id}`, a.key);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: s.id, every: '1s' });
      // DELETE waits for a run in progress (its row lock), so this count is final...
      const count = (await runsOf(s)).length;
      // ...and that nothing more comes is an absence, which no condition can await: wait
      // deliberately past the next due time (1 s) plus several 100 ms ticks.
      await new Promise((r) => setTimeout(r, 1_600));
      expect((await runsOf(s)).length).toBe(count);
      expect((await h.api<Schedule[]>('GET', '/v1/schedules', a.key)).body.map((x) => x.id)).not.toContain(s.id);
      expect(await h.api('DELETE', `/v1/schedules/${s.id}`, a.key)).toEqual({ status: 404, body: ErrorBodies.notFound });
    });

    it("shows and deletes only the caller's schedules; the admin token sees and deletes all", async () => {
      const sa = await schedule(a.key, { client_id: a.id, every: '1h' });
      const sb = await schedule(b.key, { client_id: b.id, every: '1h', destination_id: 5, num_rows: 7 });
      expect(sb).toMatchObject({ destination_id: 5, num_rows: 7 });
      const ids = async (token: string) => (await h.api<Schedule[]>('GET', '/v1/schedules', token)).body.map((x) => x.id);
      expect(await ids(a.key)).toEqual([sa.id]);
      expect(await ids(b.key)).toEqual([sb.id]);
      expect(await ids(TEST_ADMIN_TOKEN)).toEqual(expect.arrayContaining([sa.id, sb.id]));

      for (const id of [String(sb.id), '999999', 'abc', '1e3', '-1', '99999999999']) {
        expect(await h.api('DELETE', `/v1/schedules/${id}`, a.key)).toEqual({ status: 404, body: ErrorBodies.notFound });
      }
      expect((await h.api('DELETE', `/v1/schedules/${sa.id}`, a.key)).status).toBe(200);
      expect((await h.api('DELETE', `/v1/schedules/${sb.id}`, TEST_ADMIN_TOKEN)).status).toBe(200);
      expect(await ids(TEST_ADMIN_TOKEN)).toEqual([]);
    });

    it("answers 404 to a key scheduling for another account; the admin token may", async () => {
      expect(await h.api('POST', '/v1/schedules', a.key, { ...body(b.id), every: '1h' })).toEqual({ status: 404, body: ErrorBodies.notFound });
      const s = await schedule(TEST_ADMIN_TOKEN, { client_id: b.id, every: '1h' });
      expect((await h.api<Schedule[]>('GET', '/v1/schedules', b.key)).body.map((x) => x.id)).toEqual([s.id]);
      expect((await h.api('DELETE', `/v1/schedules/${s.id}`, b.key)).status).toBe(200);
    });

    it.each([['no every', undefined], ['0s', '0s'], ['under 1s', '999ms'], ['no unit', '5'], ['an unknown unit', '5d'], ['over a year', '8761h'], ['a number', 60]])(
      'answers 400 {"error":...} to every: %s',
      async (_, every) => {
        const res = await h.api<{ error: unknown }>('POST', '/v1/schedules', a.key, { ...body(a.id), every });
        expect(res.status).toBe(400);
        expect(typeof res.body.error).toBe('string');
      },
    );

    it('answers 400 to a schedule body the simulation would refuse', async () => {
      const res = await h.api<{ error: unknown }>('POST', '/v1/schedules', a.key, { ...body(a.id, { tables: [] }), every: '5m' });
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe('string');
    });
  });

  /** SPEC §10, with the production minimum of `every`. */
  describe('limits per account', () => {
    let lh: SimulatorHarness;
    let c: { id: number; key: string };
    beforeAll(async () => {
      lh = await SimulatorHarness.start('simulation_limits');
      c = await lh.account();
    });
    afterAll(() => lh?.stop());

    it('answers 400 to a simulation of 101 tables, and says the limit', async () => {
      const tables = Array.from({ length: 101 }, (_, i) => `t${i}`);
      expect(await lh.api('POST', '/v1/simulations', c.key, body(c.id, { tables }))).toEqual({ status: 400, body: { error: 'a simulation has at most 100 tables' } });
      expect((await lh.api('POST', '/v1/simulations', c.key, body(c.id, { tables: tables.slice(1) }))).status).toBe(202);
    });

    it.each(['1s', '30s', '59s', '59999ms'])('answers 400 to a schedule every %s: at least 1 minute', async (every) => {
      expect(await lh.api('POST', '/v1/schedules', c.key, { ...body(c.id), every })).toEqual({ status: 400, body: { error: 'every must be at least 1m' } });
    });

    it('accepts a schedule every minute', async () => {
      const res = await lh.api<Schedule>('POST', '/v1/schedules', c.key, { ...body(c.id), every: '1m' });
      expect(res.status).toBe(201);
      await lh.api('DELETE', `/v1/schedules/${res.body.id}`, c.key);
    });

    it('refuses the 21st schedule of an account with 400, also under concurrent creates, for a key and the admin token alike', async () => {
      const d = await lh.account();
      const create = (token: string) => lh.api<Schedule>('POST', '/v1/schedules', token, { ...body(d.id), every: '1h' });
      for (let i = 0; i < 15; i++) expect((await create(d.key)).status).toBe(201);
      const results = await Promise.all(Array.from({ length: 10 }, () => create(d.key)));
      expect(results.filter((r) => r.status === 201)).toHaveLength(5);
      const tooMany = { status: 400, body: { error: 'an account has at most 20 schedules' } };
      expect(results.filter((r) => r.status !== 201)).toEqual(Array(5).fill(tooMany));
      expect(await create(TEST_ADMIN_TOKEN)).toEqual(tooMany);
      expect((await lh.api<Schedule[]>('GET', '/v1/schedules', d.key)).body).toHaveLength(20);
      // Deleting one frees its place; another account is not affected.
      const [first] = (await lh.api<Schedule[]>('GET', '/v1/schedules', d.key)).body;
      await lh.api('DELETE', `/v1/schedules/${first.id}`, d.key);
      expect((await create(d.key)).status).toBe(201);
      expect((await lh.api('POST', '/v1/schedules', c.key, { ...body(c.id), every: '1h' })).status).toBe(201);
    });
  });
});
