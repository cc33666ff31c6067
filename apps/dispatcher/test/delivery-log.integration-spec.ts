import { ErrorBodies } from '@posthooks/contracts';
import { HttpsReceiver, waitFor } from '@posthooks/testing';
import { AttemptJson, Dispatcher } from './dispatcher-harness';

/** The delivery log and replay API (SPEC §5), isolated per account. */
describe('the delivery log API', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;
  let failing = true;
  let a: { id: number; key: string };
  let b: { id: number; key: string };
  let hookId: number;
  let otherHookId: number;
  const webhookIds: string[] = [];

  beforeAll(async () => {
    d = await Dispatcher.start('dispatch_log');
    rx = await HttpsReceiver.start({ react: () => (failing ? { status: 500, body: 'x'.repeat(5000) } : { status: 204 }) });
    a = await d.account();
    b = await d.account();
    hookId = (await d.hook(a.id, rx.url())).hook_id;
    otherHookId = (await d.hook(b.id, rx.url())).hook_id;
    // Three events that fail all six attempts each.
    for (let i = 0; i < 3; i++) await d.load(a.id, { table_name: `t${i}` });
    await rx.waitForRequests(18);
    await d.idle();
    const all = await list(a.key, `/v1/hooks/${hookId}/deliveries?limit=100`);
    webhookIds.push(...new Set(all.data.map((x) => x.webhook_id)));
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
  });

  async function list(key: string, path: string) {
    const res = await d.api<{ data: AttemptJson[]; next_cursor: string | null }>('GET', path, key);
    expect(res.status).toBe(200);
    return res.body;
  }

  it('pages through the attempts newest first', async () => {
    const pages: AttemptJson[][] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await list(a.key, `/v1/hooks/${hookId}/deliveries?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(page.data);
      cursor = page.next_cursor;
    }
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 3]);
    const all = pages.flat();
    const times = all.map((x) => Date.parse(x.attempted_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(webhookIds).toHaveLength(3);
    expect(all[0]).toEqual({
      event_id: expect.any(String),
      event_type: 'table.loaded',
      webhook_id: expect.stringMatching(/^msg_/),
      attempt: 6,
      status: 'failed',
      status_code: 500,
      error: 'HTTP 500',
      duration_ms: expect.any(Number),
      response_body: 'x'.repeat(4096),
      attempted_at: expect.any(String),
      next_attempt_at: null,
    });
  });

  it('filters by status', async () => {
    expect((await list(a.key, `/v1/hooks/${hookId}/deliveries?status=succeeded`)).data).toEqual([]);
    expect((await list(a.key, `/v1/hooks/${hookId}/deliveries?status=failed&limit=100`)).data).toHaveLength(18);
  });

  it('refuses bad query values with a clear error', async () => {
    for (const q of ['status=done', 'limit=0', 'limit=101', 'limit=ten', 'cursor=abc', 'extra=1']) {
      const res = await d.api<{ error: string }>('GET', `/v1/hooks/${hookId}/deliveries?${q}`, a.key);
      expect({ q, status: res.status, error: typeof res.body.error }).toEqual({ q, status: 400, error: 'string' });
    }
  });

  it('redelivers one event to the hook, with the same webhook-id, starting the schedule over', async () => {
    failing = false;
    const before = rx.requests.length;
    const res = await d.api('POST', `/v1/deliveries/${webhookIds[0]}/redeliver`, a.key);
    expect(res).toEqual({ status: 202, body: { webhook_id: webhookIds[0], round: 2 } });
    await rx.waitForRequests(before + 1);
    await d.idle();
    expect(rx.requests.slice(before).map((r) => r.headers['webhook-id'])).toEqual([webhookIds[0]]);
    const latest = (await list(a.key, `/v1/hooks/${hookId}/deliveries?limit=1`)).data[0];
    expect(latest).toMatchObject({ webhook_id: webhookIds[0], attempt: 7, status: 'succeeded', status_code: 204 });
  });

  it('recovers every event whose delivery failed since a time', async () => {
    const before = rx.requests.length;
    const res = await d.api<{ recovered: number; webhook_ids: string[] }>('POST', `/v1/hooks/${hookId}/recover`, a.key, { since: new Date(Date.now() - 3600_000).toISOString() });
    expect(res.status).toBe(202);
    expect(res.body.recovered).toBe(2);
    expect(res.body.webhook_ids.sort()).toEqual(webhookIds.slice(1).sort());
    await waitFor('two recovered deliveries', () => rx.requests.length === before + 2);
    await d.idle();
    expect((await list(a.key, `/v1/hooks/${hookId}/deliveries?status=succeeded`)).data).toHaveLength(3);
    // Nothing failed is left: recovering again sends nothing.
    expect((await d.api<{ recovered: number }>('POST', `/v1/hooks/${hookId}/recover`, a.key, { since: '2020-01-01T00:00:00Z' })).body.recovered).toBe(0);
  });

  it('refuses a bad recover body', async () => {
    for (const json of [{}, { since: 'yesterday' }, { since: '2999-01-01T00:00:00Z' }, { since: '2026-01-01T00:00:00Z', extra: 1 }]) {
      expect((await d.api('POST', `/v1/hooks/${hookId}/recover`, a.key, json)).status).toBe(400);
    }
  });

  it('keeps each account to its own hooks and deliveries: 404, never the data', async () => {
    for (const [method, path] of [
      ['GET', `/v1/hooks/${hookId}/deliveries`],
      ['POST', `/v1/deliveries/${webhookIds[0]}/redeliver`],
      ['POST', `/v1/hooks/${hookId}/recover`],
      ['GET', '/v1/hooks/999999/deliveries'],
      ['GET', '/v1/hooks/..%2F1/deliveries'],
      ['POST', '/v1/deliveries/not-an-id/redeliver'],
    ]) {
      const res = await d.api(method, path, b.key, method === 'POST' ? { since: '2026-01-01T00:00:00Z' } : undefined);
      expect({ method, path, ...res }).toEqual({ method, path, status: 404, body: ErrorBodies.notFound });
    }
    expect((await list(b.key, `/v1/hooks/${otherHookId}/deliveries`)).data).toEqual([]);
  });

  it('answers 401 without a valid account key', async () => {
    for (const key of [undefined, 'phk_nope']) {
      expect(await d.api('GET', `/v1/hooks/${hookId}/deliveries`, key)).toEqual({ status: 401, body: ErrorBodies.unauthorized });
    }
  });
});
