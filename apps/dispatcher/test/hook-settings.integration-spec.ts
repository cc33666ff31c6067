import { Subjects } from '@posthooks/contracts';
import { HttpsReceiver, ReceivedRequest, waitFor } from '@posthooks/testing';
import { AttemptJson, Dispatcher } from './dispatcher-harness';

/** Issue 16 at the dispatcher: load.started, sequence, subscriptions and filters, custom headers (SPEC §4, §5, §9). */
describe('hook settings at the dispatcher', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;
  const logged: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  /** Paths whose first request fails with 500 (a retry follows). */
  const failFirst = new Set<string>();

  beforeAll(async () => {
    // Everything the dispatcher logs, to prove no custom header value is in it.
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return process.env.TEST_LOG_LEVEL ? write(chunk, ...(rest as [])) : true;
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    d = await Dispatcher.start('dispatch_settings', { LOG_LEVEL: 'verbose' });
    rx = await HttpsReceiver.start({
      react: (_, req) => {
        if (failFirst.delete(req.path)) return { status: 500 };
        return { status: 204 };
      },
    });
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
    jest.restoreAllMocks();
  });

  const at = (path: string): ReceivedRequest[] => rx.requests.filter((r) => r.path === path);
  const bodies = (path: string) => at(path).map((r) => JSON.parse(r.body) as Record<string, unknown>);
  const waitAt = (path: string, n: number, timeoutMs = 10_000) => waitFor(`${n} requests at ${path} (got ${at(path).length})`, () => at(path).length >= n, { timeoutMs });

  it('sends load.started only to hooks subscribed to it, with the body of SPEC §5; a default hook gets loaded and rejected, not started', async () => {
    const a = await d.account();
    await d.hook(a.id, rx.url('/default'));
    const subscribed = await d.setSettings(await d.hook(a.id, rx.url('/started')), { event_types: ['load.started', 'table.loaded'] });
    const startedId = await d.started(a.id, { started_at: '2026-11-24T10:00:00.000Z', tables: [{ table_name: 'orders' }, { table_name: 'lines', destination_table_name: 'order_lines' }] });
    await d.load(a.id);
    await d.load(a.id, { num_rows_rejected: 100 }, 'table.rejected');
    await waitAt('/default', 2);
    await waitAt('/started', 2);
    await d.idle();

    expect(bodies('/default').map((b) => b.event_type).sort()).toEqual(['table.loaded', 'table.rejected']);
    expect(bodies('/started').map((b) => b.event_type).sort()).toEqual(['load.started', 'table.loaded']);
    const started = at('/started').find((r) => r.body.includes('"load.started"'))!;
    expect(JSON.parse(started.body)).toEqual({
      event_type: 'load.started',
      event_id: startedId,
      client_id: a.id,
      sequence: expect.any(Number),
      integration_name: 'shopify',
      started_at: '2026-11-24T10:00:00.000Z',
      tables: [
        { source_table_name: 'orders', destination_table_name: 'orders' },
        { source_table_name: 'lines', destination_table_name: 'order_lines' },
      ],
    });
    // Our four fields first, in that order (a receiver reading the top of the body sees them).
    expect(Object.keys(JSON.parse(started.body)).slice(0, 4)).toEqual(['event_type', 'event_id', 'client_id', 'sequence']);
    expect(started.headers['webhook-id']).toMatch(/^msg_/);
    expect(subscribed.settings?.event_types).toEqual(['load.started', 'table.loaded']);
  });

  it('sends a hook only the integrations and tables its filters allow (null: all); the table filter matches the event table', async () => {
    const a = await d.account();
    const filtered = await d.hook(a.id, rx.url('/filtered'));
    await d.setSettings(filtered, { integration_names: ['shopify'], table_names: ['orders'] });
    await d.hook(a.id, rx.url('/unfiltered'));
    await d.load(a.id, { integration_name: 'shopify', table_name: 'orders' });
    await d.load(a.id, { integration_name: 'stripe', table_name: 'orders' });
    await d.load(a.id, { integration_name: 'shopify', table_name: 'customers', tables: [{ table_name: 'orders' }] });
    await waitAt('/unfiltered', 3);
    await d.idle();
    expect(bodies('/filtered').map((b) => `${b.integration_name}.${b.source_root_table_name}`)).toEqual(['shopify.orders']);
  });

  it('applies a settings change from the next event on, and reads a hook event without settings (an older registry) as the defaults', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/changing'));
    await d.load(a.id, { table_name: 'before' });
    await waitAt('/changing', 1);
    const changed = await d.setSettings(hook, { event_types: ['load.started'] });
    await d.load(a.id, { table_name: 'after_change' });
    await d.started(a.id, { table_name: 'after_change' });
    await waitAt('/changing', 2);
    await d.changeHook(changed, { settings: undefined });
    expect(d.view.hooks.get(hook.hook_id)!.settings).toBeUndefined();
    await d.started(a.id, { table_name: 'old_registry' });
    await d.load(a.id, { table_name: 'old_registry' });
    await waitAt('/changing', 3);
    await d.idle();
    expect(bodies('/changing').map((b) => `${b.event_type} ${b.source_root_table_name ?? (b.tables as { source_table_name: string }[])[0].source_table_name}`)).toEqual([
      'table.loaded before',
      'load.started after_change',
      'table.loaded old_registry',
    ]);
  });

  it('sends the custom headers on the first attempt and on a retry, never in place of ours, and never logs them', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/headers'));
    failFirst.add('/headers');
    // User-Agent is refused by the registry; published here anyway, the sender drops it.
    await d.setSettings(hook, { headers: { 'X-Api-Key': 'hdr-value-5b1e-secret', Authorization: 'Bearer tok-77aa-secret', 'User-Agent': 'forged/1', 'Webhook-Signature': 'v1,forged' } });
    await d.load(a.id);
    await waitAt('/headers', 2);
    await d.idle();
    const [first, retry] = at('/headers');
    for (const req of [first, retry]) {
      expect(req.headers['x-api-key']).toBe('hdr-value-5b1e-secret');
      expect(req.headers.authorization).toBe('Bearer tok-77aa-secret');
      expect(req.headers['user-agent']).toMatch(/^posthooks\//);
      expect(req.headers['webhook-signature']).toMatch(/^v1,/);
      expect(req.headers['webhook-signature']).not.toContain('forged');
      expect(req.headers['content-type']).toBe('application/json');
    }
    expect(first.headers['webhook-id']).toBe(retry.headers['webhook-id']);
    const log = logged.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain('hdr-value-5b1e-secret');
    expect(log).not.toContain('tok-77aa-secret');
  });

  it('fails (never sends) an attempt whose header value is not sealed, naming the header and not its value', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/clear'));
    await d.setSettings(hook, { event_types: ['table.loaded', 'load.started'], headers: { 'X-Api-Key': 'clear-value-9c3d' } }, { clear: true });
    await d.load(a.id, { table_name: 'loaded_table' });
    await d.started(a.id, { table_name: 'started_table' });
    const attempts = await waitFor('the twelve failed attempts', async () => {
      const res = await d.api<{ data: AttemptJson[] }>('GET', `/v1/hooks/${hook.hook_id}/deliveries`, a.key);
      return res.body.data.length === 12 && res.body.data.every((x) => x.status === 'failed') && res.body.data;
    });
    await d.idle();
    expect(new Set(attempts.map((x) => x.error))).toEqual(new Set(['custom header X-Api-Key cannot be sent: its value is not sealed']));
    expect(at('/clear')).toHaveLength(0);
    // Each is reported, the load.started one with its table too (the email names it).
    const reported = (await d.undeliverables()).filter((u) => u.hook_id === hook.hook_id);
    expect(reported.map((u) => `${u.event_type} ${u.integration_name}.${u.table_name} ${u.attempts}`).sort()).toEqual(['load.started shopify.started_table 6', 'table.loaded shopify.loaded_table 6']);
    expect(logged.join('')).not.toContain('clear-value-9c3d');
  });

  it('numbers load webhooks per table in the order they reached LOADS, and a redelivery carries the original sequence', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/sequence'));
    await d.setSettings(hook, { event_types: ['table.loaded', 'table.rejected', 'load.started'] });
    // Published one after the other: LOADS stores them in this order.
    await d.started(a.id, { table_name: 'orders' });
    await d.load(a.id, { table_name: 'orders', num_rows: 1 });
    await d.load(a.id, { table_name: 'customers', num_rows: 1 });
    await d.load(a.id, { table_name: 'orders', num_rows: 2 }, 'table.rejected');
    await d.load(a.id, { table_name: 'customers', num_rows: 2 });
    await d.load(a.id, { table_name: 'orders', num_rows: 3 });
    await waitAt('/sequence', 6);
    await d.idle();
    const received = bodies('/sequence');
    const tableOf = (b: Record<string, unknown>) => (b.tables as { source_table_name: string }[])[0].source_table_name;
    const inSequence = (table: string) =>
      received
        .filter((b) => tableOf(b) === table)
        .sort((x, y) => (x.sequence as number) - (y.sequence as number))
        .map((b) => `${b.event_type}${b.event_type === 'load.started' ? '' : ` ${(b.tables as { num_rows: number }[])[0].num_rows}`}`);
    expect(inSequence('orders')).toEqual(['load.started', 'table.loaded 1', 'table.rejected 2', 'table.loaded 3']);
    expect(inSequence('customers')).toEqual(['table.loaded 1', 'table.loaded 2']);
    expect(new Set(received.map((b) => b.sequence)).size).toBe(6);

    // A redelivery, after newer events, sends the stored body: the original sequence.
    const first = at('/sequence').find((r) => r.body.includes('"load.started"'))!;
    const res = await d.api('POST', `/v1/deliveries/${first.headers['webhook-id'] as string}/redeliver`, a.key);
    expect(res.status).toBe(202);
    await waitAt('/sequence', 7);
    expect(at('/sequence')[6].body).toBe(first.body);
  });

  it('sends a load.started of 1,000 tables, and dead-letters one of 10,000 tables, a 5,000-deep one, one missing a field, and one not JSON, carrying on', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/hostile'));
    await d.setSettings(hook, { event_types: ['load.started'] });
    const subject = d.naming.subject(Subjects.LoadStarted);
    const js = d.nc.jetstream();
    await js.publish(subject, `{"client_id":${a.id},"integration_name":"shopify","table_name":"deep","tables":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    await js.publish(subject, JSON.stringify({ client_id: a.id, integration_name: 'shopify' }));
    await js.publish(subject, '{"client_id":');
    await js.publish(subject, JSON.stringify({ client_id: a.id, integration_name: 'shopify', table_name: 'orders', tables: [{ destination_table_name: 'x' }] }));
    await js.publish(subject, JSON.stringify({ client_id: a.id, integration_name: 'shopify', table_name: 'too-wide', tables: Array.from({ length: 10_000 }, (_, i) => ({ table_name: `t${i}` })) }));
    const tables = Array.from({ length: 1_000 }, (_, i) => ({ table_name: `t${i}` }));
    await d.started(a.id, { table_name: 'wide', tables });
    await waitAt('/hostile', 1, 30_000);
    await d.idle(30_000);
    const [wide] = bodies('/hostile');
    expect((wide.tables as unknown[]).length).toBe(1_000);
    expect((wide.tables as { source_table_name: string }[])[999]).toEqual({ source_table_name: 't999', destination_table_name: 't999' });
    expect(at('/hostile')).toHaveLength(1);
    const reasons = (await d.deadLetters(Subjects.LoadStarted)).map((m) => m.reason);
    expect(reasons).toEqual([expect.stringMatching(/nested deeper than 64/), expect.stringMatching(/table_name/), expect.stringMatching(/not JSON/), expect.stringMatching(/table_name/), expect.stringMatching(/tables must contain no more than 1000/)]);
  });
});
