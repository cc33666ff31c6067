import { parseEvent, Subjects } from '@posthooks/contracts';
import { HttpsReceiver, Reaction, ReceivedRequest, streamMessages, waitFor } from '@posthooks/testing';
import { generateSigningSecret } from '@posthooks/webhooks';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { AttemptJson, Dispatcher } from './dispatcher-harness';

/** SPEC §5: signed, per-hook delivery with retries, against real HTTPS receivers. */
describe('delivery', () => {
  let d: Dispatcher;
  const receivers: HttpsReceiver[] = [];
  const receiver = async (react?: (n: number, req: ReceivedRequest) => Reaction, tls: 'trusted' | 'untrusted' = 'trusted') => {
    const rx = await HttpsReceiver.start({ react, tls });
    receivers.push(rx);
    return rx;
  };
  const verify = (secret: string, req: ReceivedRequest) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
  const attempts = async (key: string, hookId: number) => (await d.api<{ data: AttemptJson[] }>('GET', `/v1/hooks/${hookId}/deliveries`, key)).body.data;

  beforeAll(async () => (d = await Dispatcher.start('dispatch_delivery')));
  afterAll(async () => {
    await d.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('sends one signed POST with the Stitch body and Standard Webhooks headers', async () => {
    const rx = await receiver();
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    const eventId = await d.load(a.id, { num_rows: 42, max_time_extracted: '2026-11-24T09:59:00.000Z' });

    const [req] = await rx.waitForRequests(1);
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^posthooks\/\d+\.\d+\.\d+/);
    expect(req.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(verify(hook.secrets[0].secret, req)).toMatchObject({ event_id: eventId });
    expect(JSON.parse(req.body)).toEqual({
      event_type: 'table.loaded',
      event_id: eventId,
      client_id: a.id,
      sequence: expect.any(Number),
      version: '1.0',
      minimum_sdc_batched_at: expect.stringMatching(/Z$/),
      integration_name: 'shopify',
      new_version: false,
      source_root_table_name: 'orders',
      destination_root_table_name: 'orders',
      table_version: 0,
      tables: [{ source_table_name: 'orders', destination_table_name: 'orders', num_rows: 42, num_rows_rejected: 0, max_time_extracted: '2026-11-24T09:59:00.000Z', bookmark_metadata: null }],
    });
    await d.idle();
    expect(rx.requests).toHaveLength(1);
  });

  it('signs with both secrets during a rotation, and each one verifies', async () => {
    const rx = await receiver();
    const a = await d.account();
    const [fresh, old] = [generateSigningSecret(), generateSigningSecret()];
    await d.hook(a.id, rx.url(), { secrets: [{ secret: fresh, expires_at: null }, { secret: old, expires_at: new Date(Date.now() + 86_400_000).toISOString() }] });
    await d.load(a.id);
    const [req] = await rx.waitForRequests(1);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => verify(fresh, req)).not.toThrow();
    expect(() => verify(old, req)).not.toThrow();
    expect(() => verify(generateSigningSecret(), req)).toThrow();
  });

  it('stops signing with a rotated-out secret once it has expired', async () => {
    const rx = await receiver();
    const a = await d.account();
    const [fresh, expired] = [generateSigningSecret(), generateSigningSecret()];
    await d.hook(a.id, rx.url(), { secrets: [{ secret: fresh, expires_at: null }, { secret: expired, expires_at: new Date(Date.now() - 1000).toISOString() }] });
    await d.load(a.id);
    const [req] = await rx.waitForRequests(1);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verify(expired, req)).toThrow();
  });

  it('retries a receiver that answers 500 three times, then 200: four attempts, all in the log', async () => {
    const rx = await receiver((n) => (n < 3 ? { status: 500, body: `boom ${n}` } : { status: 200, body: 'thanks' }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    const reqs = await rx.waitForRequests(4);
    await d.idle();
    expect(rx.requests).toHaveLength(4);
    expect(new Set(reqs.map((r) => r.headers['webhook-id'])).size).toBe(1);

    const log = await attempts(a.key, hook.hook_id);
    expect(log.map((x) => [x.attempt, x.status, x.status_code, x.error])).toEqual([
      [4, 'succeeded', 200, null],
      [3, 'failed', 500, 'HTTP 500'],
      [2, 'failed', 500, 'HTTP 500'],
      [1, 'failed', 500, 'HTTP 500'],
    ]);
    expect(log[1]).toMatchObject({ response_body: 'boom 2', next_attempt_at: expect.any(String), event_type: 'table.loaded' });
    expect(log[0].next_attempt_at).toBeNull();
    // Each retry started within a second of the time it was due (SPEC §5, issue 14):
    // the receipt of attempt n+1 against attempt n's logged next_attempt_at.
    const byAttempt = [...log].reverse();
    for (let n = 1; n < 4; n++) {
      const late = reqs[n].at - Date.parse(byAttempt[n - 1].next_attempt_at as string);
      expect({ attempt: n + 1, late: late > -50 && late < 1000 }).toEqual({ attempt: n + 1, late: true });
    }
  });

  it('claims again a delivery whose attempt died with its dispatcher once the lease has run out, under the same attempt number', async () => {
    const rx = await receiver();
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    // What a dispatcher killed during an attempt leaves: the delivery due and leased
    // (here, a lease already over), its attempt 1 logged as under way.
    const webhookId = `msg_${'5'.repeat(31)}${a.id % 10}`;
    const db = d.app.get(DataSource);
    await db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, next_attempt_at, leased_until)
       VALUES ($1, $2, $3, 'ev-orphan', 'table.loaded', '{"event_id":"ev-orphan"}', now() - interval '2 seconds', now() - interval '1 second')`,
      [webhookId, hook.hook_id, a.id],
    );
    await db.query(`INSERT INTO attempts (webhook_id, hook_id, attempt, status) VALUES ($1, $2, 1, 'pending')`, [webhookId, hook.hook_id]);

    const [req] = await rx.waitForRequests(1);
    expect(req.headers['webhook-id']).toBe(webhookId);
    await d.idle();
    expect((await attempts(a.key, hook.hook_id)).map((x) => [x.attempt, x.status])).toEqual([[1, 'succeeded']]);
    expect(rx.requests).toHaveLength(1);
  });

  it('leaves a delivery alone while another replica holds its lease', async () => {
    const rx = await receiver();
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    const webhookId = `msg_${'6'.repeat(31)}${a.id % 10}`;
    const db = d.app.get(DataSource);
    await db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, next_attempt_at, leased_until)
       VALUES ($1, $2, $3, 'ev-leased', 'table.loaded', '{"event_id":"ev-leased"}', now(), now() + interval '1500 milliseconds')`,
      [webhookId, hook.hook_id, a.id],
    );
    const leaseEnds = Date.now() + 1500;
    const [req] = await rx.waitForRequests(1);
    // Claimed once the lease was over, and within a poll of it.
    expect(req.at).toBeGreaterThanOrEqual(leaseEnds - 50);
    expect(req.at).toBeLessThan(leaseEnds + 1000);
  });

  it('gives up after the first attempt and five retries, with exactly one hook.undeliverable', async () => {
    const rx = await receiver(() => ({ status: 503, body: 'down' }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    const eventId = await d.load(a.id);
    await rx.waitForRequests(6);
    await d.idle();
    const mine = await waitFor('the undeliverable event', async () => {
      const found = (await d.undeliverables()).filter((u) => u.hook_id === hook.hook_id);
      return found.length > 0 && found;
    });
    expect(rx.requests).toHaveLength(6);
    expect(mine).toEqual([
      expect.objectContaining({ event_id: eventId, hook_id: hook.hook_id, client_id: a.id, url: rx.url(), attempts: 6, last_error: 'HTTP 503', last_status_code: 503, integration_name: 'shopify', table_name: 'orders' }),
    ]);
  });

  it('honours Retry-After within the schedule\'s bounds', async () => {
    const slow = await Dispatcher.start('dispatch_retry_after', { DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,1500ms' });
    try {
      const rx = await receiver((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
      const a = await slow.account();
      await slow.hook(a.id, rx.url());
      await slow.load(a.id);
      const [first, second] = await rx.waitForRequests(2);
      expect(second.at - first.at).toBeGreaterThanOrEqual(850);
    } finally {
      await slow.stop();
    }
  });

  it('does not follow redirects: a 302 is a failed attempt', async () => {
    const target = await receiver();
    const rx = await receiver(() => ({ status: 302, headers: { location: target.url() } }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    await rx.waitForRequests(6);
    await d.idle();
    expect(target.requests).toHaveLength(0);
    expect((await attempts(a.key, hook.hook_id))[0]).toMatchObject({ status: 'failed', status_code: 302, error: 'redirect (302) not followed' });
  });

  it('stops at a 410 Gone and reports the hook gone', async () => {
    const rx = await receiver(() => ({ status: 410 }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    await rx.waitForRequests(1);
    await d.idle();
    expect(rx.requests).toHaveLength(1);
    const gone = await waitFor('hook.gone', async () =>
      (await streamMessages(d.jsm, d.naming.namespace, 'NOTIFY', Subjects.HookGone)).map((m) => m.json<Record<string, unknown>>()).find((g) => g.hook_id === hook.hook_id),
    );
    expect(gone).toMatchObject({ hook_id: hook.hook_id, client_id: a.id, url: rx.url() });
  });

  it('sends to a hook that answered 410 again once the registry has re-enabled it', async () => {
    let gone = true;
    const rx = await receiver(() => (gone ? { status: 410 } : { status: 204 }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    await rx.waitForRequests(1);
    await waitFor('hook.gone', async () => (await streamMessages(d.jsm, d.naming.namespace, 'NOTIFY', Subjects.HookGone)).some((m) => m.json<{ hook_id: number }>().hook_id === hook.hook_id));
    // What the registry does: disables the hook (endpoint_gone); the user fixes the endpoint and re-enables it.
    const disabled = await d.changeHook(hook, { disabled_at: new Date().toISOString(), disabled_reason: 'endpoint_gone' });
    gone = false;
    await d.changeHook(disabled, { disabled_at: null, disabled_reason: null });
    await d.load(a.id);
    const [, req] = await rx.waitForRequests(2);
    expect(req.headers['webhook-id']).not.toBe(rx.requests[0].headers['webhook-id']);
    await d.idle();
    expect((await attempts(a.key, hook.hook_id)).map((x) => [x.status, x.status_code])).toEqual([
      ['succeeded', 204],
      ['failed', 410],
    ]);
  });

  it('records an answer with NUL bytes and invalid UTF-8, sanitised, and keeps the attempt\'s outcome: nothing is re-sent', async () => {
    // Bytes no Postgres text column takes as they are (NUL), and bytes that are not UTF-8.
    const raw = Buffer.concat([Buffer.from('ok'), Buffer.from([0x00, 0xff, 0xfe, 0xc3]), Buffer.from(' done')]);
    // The receiver writes a Buffer body as it is (its type says string; res.end takes both).
    const rx = await receiver((n) => ({ status: n === 0 ? 500 : 200, body: raw as unknown as string }));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    const log = await waitFor('a succeeded attempt in the log', async () => {
      const l = await attempts(a.key, hook.hook_id);
      return l.some((x) => x.status === 'succeeded') && l;
    });
    await d.idle();
    const sanitised = `ok${'\ufffd'.repeat(4)} done`;
    expect(log.map((x) => [x.attempt, x.status, x.status_code, x.response_body])).toEqual([
      [2, 'succeeded', 200, sanitised],
      [1, 'failed', 500, sanitised],
    ]);
    expect(rx.requests).toHaveLength(2);
  });

  it('reports an undeliverable hook whose URL ends its host with a dot, as the registry accepts it', async () => {
    const url = 'https://host.example.invalid./x';
    const a = await d.account();
    const hook = await d.hook(a.id, url);
    await d.load(a.id);
    const [event] = await waitFor('the undeliverable event', async () => {
      const found = (await streamMessages(d.jsm, d.naming.namespace, 'NOTIFY', Subjects.HookUndeliverable)).filter((m) => m.json<{ hook_id: number }>().hook_id === hook.hook_id);
      return found.length > 0 && found;
    }, { timeoutMs: 30_000 });
    // What the email-notifier's consumer checks before it acts: the event's contract.
    const parsed = parseEvent(Subjects.HookUndeliverable, event.data);
    expect(parsed).toMatchObject({ ok: true, event: { url, hook_id: hook.hook_id, attempts: 6 } });
  });

  it('fails an attempt on a certificate nobody trusts, without sending the body', async () => {
    const rx = await receiver(undefined, 'untrusted');
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.load(a.id);
    await d.idle();
    const log = await waitFor('six attempts', async () => {
      const l = await attempts(a.key, hook.hook_id);
      return l.length === 6 && l.every((x) => x.status === 'failed') && l;
    });
    expect(rx.requests).toHaveLength(0);
    expect(log[0].error).toMatch(/certificate/i);
  });

  it('never lets a hanging endpoint delay another one', async () => {
    const hanging = await receiver(() => 'hang');
    const fast = await receiver();
    const a = await d.account();
    await d.hook(a.id, hanging.url());
    await d.hook(a.id, fast.url());
    const sent = Date.now();
    await d.load(a.id);
    const [req] = await fast.waitForRequests(1);
    expect(req.at - sent).toBeLessThan(1000);
    await hanging.waitForRequests(1);
    // Let the hanging one fail fast from here on, so the next tests start idle.
    await hanging.close();
    await d.idle();
  });

  it('sends nothing for an account without the entitlement, or an ended trial', async () => {
    const rx = await receiver();
    const standard = await d.account('standard');
    const ended = await d.account('free_trial', new Date(Date.now() - 1000).toISOString());
    const downgraded = await d.account('premium');
    for (const acc of [standard, ended, downgraded]) await d.hook(acc.id, rx.url());
    await d.setPlan(downgraded.id, 'standard');
    for (const acc of [standard, ended, downgraded]) await d.load(acc.id);
    await d.idle();
    expect(rx.requests).toHaveLength(0);
  });

  it('fires only the hooks of the destination an event names', async () => {
    const rx1 = await receiver();
    const rx2 = await receiver();
    const a = await d.account();
    await d.hook(a.id, rx1.url(), { destinationId: 10 });
    await d.hook(a.id, rx2.url(), { destinationId: 20 });
    await d.load(a.id, { destination_id: 20 });
    await rx2.waitForRequests(1);
    await d.idle();
    expect(rx1.requests).toHaveLength(0);
  });

  it('sends table.rejected with its type', async () => {
    const rx = await receiver();
    const a = await d.account();
    await d.hook(a.id, rx.url());
    await d.load(a.id, { num_rows: 0, num_rows_rejected: 5, error_message: 'type mismatch' }, 'table.rejected');
    const [req] = await rx.waitForRequests(1);
    expect(JSON.parse(req.body)).toMatchObject({ event_type: 'table.rejected', error_message: 'type mismatch', tables: [{ num_rows_rejected: 5 }] });
  });

  it('delivers a ping asked for by the registry (POST /v1/hooks/{id}/test), signed and logged', async () => {
    const rx = await receiver();
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await d.publisher.publish(Subjects.HookTest, { hook_id: hook.hook_id, client_id: a.id, event_id: 'ping-1', requested_at: new Date().toISOString() }, { msgId: 'ping-1' });
    const [req] = await rx.waitForRequests(1);
    expect(verify(hook.secrets[0].secret, req)).toEqual({ event_type: 'ping', event_id: 'ping-1', client_id: a.id, hook_id: hook.hook_id, sent_at: expect.any(String) });
    await d.idle();
    expect((await attempts(a.key, hook.hook_id))[0]).toMatchObject({ event_type: 'ping', status: 'succeeded' });
  });

  it('counts deliveries by outcome in /metrics', async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    expect(text).toMatch(/posthooks_deliveries_total\{outcome="succeeded",service="dispatcher"\} [1-9]/);
    expect(text).toMatch(/posthooks_delivery_attempt_seconds_bucket/);
  });
});

describe('delivery to private addresses', () => {
  it('refuses to connect to loopback unless ALLOW_PRIVATE_TARGETS=true, and the log API names no address', async () => {
    const d = await Dispatcher.start('dispatch_ssrf', { ALLOW_PRIVATE_TARGETS: 'false' });
    const rx = await HttpsReceiver.start();
    try {
      const a = await d.account();
      const viaName = await d.hook(a.id, rx.url());
      const viaLiteral = await d.hook(a.id, `https://127.0.0.1:${rx.port}/hook`);
      await d.load(a.id);
      for (const hook of [viaName, viaLiteral]) {
        const log = await waitFor('six refused attempts', async () => {
          const l = (await d.api<{ data: AttemptJson[] }>('GET', `/v1/hooks/${hook.hook_id}/deliveries`, a.key)).body.data;
          return l.length === 6 && l.every((x) => x.status === 'failed') && l;
        });
        // SPEC §5: the tenant sees the refusal, never the resolved address.
        expect(log.map((x) => x.error)).toEqual(Array(6).fill('target address not allowed'));
        expect(JSON.stringify(log)).not.toMatch(/127\.0\.0\.1|::1|loopback/);
      }
      expect(rx.requests).toHaveLength(0);
    } finally {
      await d.stop();
      await rx.close();
    }
  });
});
