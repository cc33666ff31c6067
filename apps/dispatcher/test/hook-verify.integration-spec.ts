import { secretBoxFromEnv } from '@posthooks/config';
import { HookChangedEvent, HookVerifyReply, Subjects } from '@posthooks/contracts';
import { HttpsReceiver, waitFor } from '@posthooks/testing';
import { Webhook } from 'standardwebhooks';
import { AttemptJson, Dispatcher } from './dispatcher-harness';

let nextId = 1;

/** `hook.verify` (SPEC §9 `"verify": true`): the registry asks, the dispatcher pings once and answers. */
describe('the hook.verify responder', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;

  beforeAll(async () => {
    d = await Dispatcher.start('dispatch_verify');
    rx = await HttpsReceiver.start({ react: (_, req) => (req.path === '/failing' ? { status: 500, body: 'down' } : { status: 204 }) });
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
  });

  /** The hook as the registry puts it in the request: secrets and header values sealed. */
  function sealed(hook: HookChangedEvent, headers: Record<string, string> = {}): HookChangedEvent {
    const box = secretBoxFromEnv(d.env);
    return {
      ...hook,
      secrets: hook.secrets.map((s) => ({ ...s, secret: box.seal(s.secret) })),
      settings: { event_types: ['table.loaded'], integration_names: null, table_names: null, headers: Object.entries(headers).map(([name, value]) => ({ name, value: box.seal(value) })), rate_limit_per_s: null },
    };
  }

  async function ask(dispatcher: Dispatcher, request: unknown): Promise<HookVerifyReply> {
    const msg = await dispatcher.nc.request(dispatcher.naming.subject(Subjects.HookVerify), JSON.stringify(request), { timeout: 10_000 });
    return msg.json<HookVerifyReply>();
  }

  const request = (hook: HookChangedEvent) => ({ event_id: `verify-${nextId++}`, requested_at: new Date().toISOString(), hook });

  async function attemptsOf(key: string, hookId: number): Promise<AttemptJson[]> {
    return (await d.api<{ data: AttemptJson[] }>('GET', `/v1/hooks/${hookId}/deliveries`, key)).body.data;
  }

  it("pings the request's hook once, signed and with its custom headers, answers with the status, and logs the ping", async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/ok'));
    // The request's URL and headers are used, not the view's (the registry has just saved them).
    const changed = { ...hook, url: rx.url('/ok-new') };
    const req = request(sealed(changed, { 'X-Api-Key': 'verify-hdr-1' }));
    const reply = await ask(d, req);
    expect(reply).toEqual({ status_code: 204, duration_ms: expect.any(Number), error: null });
    const [ping] = rx.requests.filter((r) => r.path === '/ok-new');
    expect(ping.headers['x-api-key']).toBe('verify-hdr-1');
    expect(new Webhook(hook.secrets[0].secret).verify(ping.body, ping.headers as Record<string, string>)).toEqual({ event_type: 'ping', event_id: req.event_id, client_id: a.id, hook_id: hook.hook_id, sent_at: req.requested_at });
    const attempts = await attemptsOf(a.key, hook.hook_id);
    expect(attempts).toEqual([expect.objectContaining({ event_id: req.event_id, event_type: 'ping', attempt: 1, status: 'succeeded', status_code: 204, next_attempt_at: null })]);
  });

  it('answers a failing receiver with its status, once: no retry, no hook.undeliverable', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/failing'));
    const reply = await ask(d, request(sealed(hook)));
    expect(reply).toEqual({ status_code: 500, duration_ms: expect.any(Number), error: 'HTTP 500' });
    await d.idle();
    expect(rx.requests.filter((r) => r.path === '/failing')).toHaveLength(1);
    expect(await attemptsOf(a.key, hook.hook_id)).toEqual([expect.objectContaining({ event_type: 'ping', attempt: 1, status: 'failed', status_code: 500, error: 'HTTP 500', response_body: 'down' })]);
    expect((await d.undeliverables()).filter((u) => u.hook_id === hook.hook_id)).toEqual([]);
  });

  it('answers an invalid request with an error, and still answers the next', async () => {
    const deep = `{"event_id":"x","requested_at":"2026-11-24T10:00:00Z","hook":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const bad: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['{}', /event_id/],
      [JSON.stringify({ event_id: 'x', requested_at: 'now', hook: {} }), /requested_at/],
      [deep, /nested deeper than 64/],
    ];
    for (const [raw, reason] of bad) {
      const reply = (await d.nc.request(d.naming.subject(Subjects.HookVerify), raw, { timeout: 10_000 })).json<HookVerifyReply>();
      expect(reply).toEqual({ status_code: null, duration_ms: null, error: expect.stringMatching(/^invalid hook.verify request: /) });
      expect(reply.error).toMatch(reason);
    }
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url('/after-bad'));
    expect((await ask(d, request(sealed(hook)))).status_code).toBe(204);
  });

  it('answers `target address not allowed` for a private target when they are not allowed, and logs the failed ping', async () => {
    const guarded = await Dispatcher.start('dispatch_verify_guarded', { ALLOW_PRIVATE_TARGETS: 'false' });
    try {
      const a = await guarded.account();
      const hook = await guarded.hook(a.id, rx.url('/private'));
      const box = secretBoxFromEnv(guarded.env);
      const reply = await ask(guarded, request({ ...hook, secrets: hook.secrets.map((s) => ({ ...s, secret: box.seal(s.secret) })) }));
      expect(reply).toEqual({ status_code: null, duration_ms: expect.any(Number), error: 'target address not allowed' });
      expect(rx.requests.filter((r) => r.path === '/private')).toHaveLength(0);
      const attempts = await waitFor('the logged ping', async () => {
        const data = (await guarded.api<{ data: AttemptJson[] }>('GET', `/v1/hooks/${hook.hook_id}/deliveries`, a.key)).body.data;
        return data.length > 0 && data;
      });
      expect(attempts).toEqual([expect.objectContaining({ event_type: 'ping', status: 'failed', error: 'target address not allowed' })]);
    } finally {
      await guarded.stop();
    }
  });
});
