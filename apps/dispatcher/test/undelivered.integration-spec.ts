import { HttpsReceiver, waitFor } from '@posthooks/testing';
import { UndeliveredGauge } from '../src/log/undelivered-gauge';
import { Dispatcher } from './dispatcher-harness';

interface UndeliveredJson {
  webhook_id: string;
  hook_id: number;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string | null;
}
type Page = { data: UndeliveredJson[]; next_cursor: string | null };

/** SPEC §5: `GET /v1/deliveries`, what was never delivered, across an account's hooks. */
describe('the undelivered view', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;
  let a: { id: number; key: string };
  let b: { id: number; key: string };
  let waiting: number;
  let gone: number;
  let otherGone: number;
  const pendingIds: string[] = [];

  beforeAll(async () => {
    // Five quick attempts, then the sixth an hour later: a delivery that keeps failing stays pending.
    d = await Dispatcher.start('dispatch_undelivered', { DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,1h' });
    rx = await HttpsReceiver.start({ react: (_, req) => ({ status: req.path.startsWith('/gone') ? 410 : 500 }) });
    a = await d.account();
    b = await d.account();
    waiting = (await d.hook(a.id, rx.url('/waiting'))).hook_id;
    gone = (await d.hook(a.id, rx.url('/gone'))).hook_id;
    otherGone = (await d.hook(b.id, rx.url('/gone-b'))).hook_id;
    // 410 ends the first delivery to `gone` (failed); the dispatcher then cancels the
    // hook's next ones (the registry would disable it).
    pendingIds.push(await d.load(a.id, { table_name: 't0' }));
    await d.load(b.id);
    await waitFor('the 410s', () => rx.requests.filter((r) => r.path.startsWith('/gone')).length === 2);
    await waitFor('the first failed delivery', async () => (await list(a.key, '')).data.length === 1);
    pendingIds.push(await d.load(a.id, { table_name: 't1' }));
    pendingIds.push(await d.load(a.id, { table_name: 't2' }));
    await waitFor('three deliveries waiting after five attempts', async () => {
      const page = await list(a.key, '?status=pending');
      return page.data.length === 3 && page.data.every((x) => x.attempts === 5);
    });
    await waitFor('two cancelled deliveries', async () => (await list(a.key, '?status=cancelled')).data.length === 2);
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
  });

  async function list(key: string, query: string): Promise<Page> {
    const res = await d.api<Page>('GET', `/v1/deliveries${query}`, key);
    expect(res.status).toBe(200);
    return res.body;
  }

  it('lists failed deliveries by default, each with its hook, attempts and last error; another account sees only its own', async () => {
    const mine = await list(a.key, '');
    expect(mine).toEqual({
      data: [
        {
          webhook_id: expect.stringMatching(/^msg_/),
          hook_id: gone,
          event_id: pendingIds[0],
          event_type: 'table.loaded',
          status: 'failed',
          attempts: 1,
          last_error: 'HTTP 410',
          created_at: expect.any(String),
          next_attempt_at: null,
        },
      ],
      next_cursor: null,
    });
    const theirs = await list(b.key, '?status=failed');
    expect(theirs.data.map((x) => x.hook_id)).toEqual([otherGone]);
  });

  it('lists pending deliveries newest first with their next attempt, and cancelled ones', async () => {
    const pending = await list(a.key, '?status=pending');
    // Newest first: by when each delivery was recorded (t1 and t2, published together, may be recorded in either order).
    expect(pending.data.map((x) => x.event_id).sort()).toEqual([...pendingIds].sort());
    expect(pending.data[2].event_id).toBe(pendingIds[0]);
    const times = pending.data.map((x) => Date.parse(x.created_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    for (const x of pending.data) {
      expect(x).toMatchObject({ hook_id: waiting, status: 'pending', attempts: 5, last_error: 'HTTP 500' });
      expect(Date.parse(x.next_attempt_at!)).toBeGreaterThan(Date.now() + 30 * 60_000);
    }
    const cancelled = await list(a.key, '?status=cancelled');
    expect(cancelled.data.map((x) => [x.hook_id, x.event_id, x.last_error]).sort()).toEqual([
      [gone, pendingIds[1], 'hook disabled'],
      [gone, pendingIds[2], 'hook disabled'],
    ]);
  });

  it('pages with next_cursor, each delivery exactly once, and filters by hook and by time', async () => {
    const first = await list(a.key, '?status=pending&limit=2');
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toMatch(/^[0-9]+-msg_[0-9a-f]{32}$/);
    const second = await list(a.key, `?status=pending&limit=2&cursor=${first.next_cursor}`);
    expect(second.next_cursor).toBeNull();
    expect([...first.data, ...second.data]).toEqual((await list(a.key, '?status=pending')).data);

    expect((await list(a.key, `?status=pending&hook_id=${gone}`)).data).toEqual([]);
    expect((await list(a.key, `?status=cancelled&hook_id=${gone}`)).data).toHaveLength(2);
    // `since` is inclusive and to the millisecond: t0's delivery was recorded well before t1's and t2's.
    const oldest = second.data[second.data.length - 1];
    expect(oldest.event_id).toBe(pendingIds[0]);
    const after = new Date(Date.parse(oldest.created_at) + 1).toISOString();
    expect((await list(a.key, `?status=pending&since=${after}`)).data.map((x) => x.event_id).sort()).toEqual([pendingIds[1], pendingIds[2]].sort());
    expect((await list(a.key, `?status=pending&since=${oldest.created_at}`)).data).toHaveLength(3);
  });

  it("answers 404 for another account's hook, 400 for a bad parameter, 401 without a key", async () => {
    expect(await d.api('GET', `/v1/deliveries?hook_id=${otherGone}`, a.key)).toEqual({ status: 404, body: { error: 'NotFound' } });
    const bad: [string, string][] = [
      ['status=succeeded', 'status must be failed, pending or cancelled'],
      ['limit=0', 'limit must be an integer from 1 to 100'],
      ['limit=101', 'limit must be an integer from 1 to 100'],
      ['hook_id=abc', 'hook_id must be a hook id'],
      ['hook_id=99999999999', 'hook_id must be a hook id'],
      ['since=yesterday', 'since must be an ISO 8601 time'],
      ['cursor=1-2', 'cursor is not one this API gave'],
      ["cursor=1-msg_' OR 1=1", 'cursor is not one this API gave'],
      ['extra=1', 'property extra should not exist'],
    ];
    for (const [query, error] of bad) expect([query, await d.api('GET', `/v1/deliveries?${query}`, a.key)]).toEqual([query, { status: 400, body: { error } }]);
    expect(await d.api('GET', '/v1/deliveries')).toEqual({ status: 401, body: { error: 'Unauthorized' } });
  });

  it('counts undelivered deliveries in posthooks_deliveries_undelivered, by status', async () => {
    await d.app.get(UndeliveredGauge).count();
    const text = await (await fetch(`${d.url}/metrics`)).text();
    expect(text).toMatch(/^posthooks_deliveries_undelivered{status="failed"[^}]*} 2$/m);
    expect(text).toMatch(/^posthooks_deliveries_undelivered{status="pending"[^}]*} 3$/m);
  });

  it('describes the route in /docs, with its error bodies', async () => {
    const docs = await d.api<{ paths: Record<string, { get?: { responses: Record<string, { description: string }>; parameters: { name: string }[] } }> }>('GET', '/docs');
    const route = docs.body.paths['/v1/deliveries'].get!;
    expect(Object.keys(route.responses).sort()).toEqual(['200', '400', '401', '404', '429']);
    expect(route.responses['400'].description).toContain('{"error":');
    expect(route.parameters.map((p) => p.name).sort()).toEqual(['cursor', 'hook_id', 'limit', 'since', 'status']);
  });
});
