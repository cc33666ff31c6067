import { HookChangedEvent, HookVerifyRequest, parseEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { streamName, TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, waitFor } from '@posthooks/testing';
import { isSealed, SecretBox } from '@posthooks/webhooks';
import { connect, NatsConnection, Subscription } from 'nats';
import { Client } from 'pg';
import { HOOKS, HookJson, Registry, Reply } from './registry-harness';

interface Settings {
  event_types: string[];
  integration_names: string[] | null;
  table_names: string[] | null;
  headers: Record<string, string>;
  rate_limit_per_s: number | null;
}
type HookWithSettings = HookJson & { settings: Settings; verify?: { status_code: number | null; duration_ms: number | null; error: string | null } };

const DEFAULTS: Settings = { event_types: ['table.loaded', 'table.rejected'], integration_names: null, table_names: null, headers: {}, rate_limit_per_s: null };
const STITCH_HOOK_KEYS = ['client_id', 'config', 'created_at', 'disabled_at', 'disabled_reason', 'id', 'modified_at', 'type', 'version'];

/** Header values no response, log line, row or REGISTRY message may show in clear. */
const CLEAR_VALUE = 'k_live_4f9c2e71d0a8b6_never_shown';
const CLEAR_AUTH = 'Bearer tok_83b1f0c9e2_never_shown';

/** SPEC §9: hook settings on the registry's extension routes. */
describe('hook settings', () => {
  let r: Registry;
  let nc: NatsConnection;
  let naming: NatsNaming;
  let pg: Client;
  const logged: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const box = new SecretBox(TEST_SECRETS_KEY);

  beforeAll(async () => {
    // Everything the registry logs, to prove no header value is in it.
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    r = await Registry.start('hook_settings', { LOG_LEVEL: 'verbose', HOOK_VERIFY_TIMEOUT_MS: '1500' });
    nc = await connect({ servers: r.env.NATS_URL });
    naming = new NatsNaming(r.env.NATS_NAMESPACE);
    pg = new Client({ connectionString: r.env.DATABASE_URL, options: '-c search_path=hook_registry' });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await nc.close();
    await r.stop();
    jest.restoreAllMocks();
  });

  const setup = async (plan = 'advanced') => {
    const a = await r.account(plan);
    const h = await r.hook(a.key, await r.destination(a.key));
    return { key: a.key, accountId: a.id, hook: h };
  };
  const put = (key: string, id: number | string, json: unknown) => r.call<HookWithSettings>('PUT', `/v1/hooks/${id}/settings`, { token: key, json });
  const get = (key: string, id: number | string) => r.call<HookWithSettings>('GET', `/v1/hooks/${id}`, { token: key });
  const invalid = (message: string | RegExp) => ({ data: { message: typeof message === 'string' ? message : expect.stringMatching(message) }, error: 'InvalidBody' });

  /** The hook's last message on REGISTRY (compacted: one subject per hook), raw and parsed. */
  async function registryMessage(hookId: number): Promise<{ raw: string; event: HookChangedEvent }> {
    await r.published();
    const jsm = await nc.jetstreamManager();
    const m = await jsm.streams.getMessage(streamName(naming.namespace, 'REGISTRY'), { last_by_subj: naming.subject(`${Subjects.HookChanged}.${hookId}`) });
    const parsed = parseEvent(Subjects.HookChanged, m.data);
    if (!parsed.ok) throw new Error(`REGISTRY holds an invalid hook event: ${parsed.reason}`);
    return { raw: new TextDecoder().decode(m.data), event: parsed.event };
  }

  /**
   * Stands in for the dispatcher's `hook.verify` responder (built on another branch), only
   * to test the registry's side of the request: it is not a mock of the code under test.
   * It checks each request is a valid HookVerifyRequest and answers with `answer`.
   */
  function verifyResponder(answer: (request: HookVerifyRequest) => object | undefined): { requests: HookVerifyRequest[]; raw: string[]; sub: Subscription } {
    const requests: HookVerifyRequest[] = [];
    const raw: string[] = [];
    const sub = nc.subscribe(naming.subject(Subjects.HookVerify), {
      queue: 'dispatcher',
      callback: (_, m) => {
        raw.push(m.string());
        const parsed = parseEvent(Subjects.HookVerify, m.data);
        if (!parsed.ok) {
          m.respond(JSON.stringify({ status_code: null, duration_ms: null, error: `invalid request: ${parsed.reason}` }));
          return;
        }
        requests.push(parsed.event);
        const reply = answer(parsed.event);
        if (reply) m.respond(JSON.stringify(reply));
      },
    });
    return { requests, raw, sub };
  }

  it('gives a new hook the Stitch defaults, and an existing hook too when the registry upgrades', async () => {
    const { key, hook } = await setup();
    const res = await get(key, hook.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...hook, secret: undefined, settings: DEFAULTS });
    expect((await registryMessage(hook.id)).event.settings).toEqual({ ...DEFAULTS, headers: [] });

    // A store from before the settings: the columns dropped and the migration forgotten,
    // then a registry starts on it (its own database) and migrates.
    const old = await Registry.start('hook_settings_upgrade');
    const before = await (async () => {
      const a = await old.account();
      return { key: a.key, hook: await old.hook(a.key, await old.destination(a.key)) };
    })();
    await old.stop();
    const oldPg = new Client({ connectionString: old.env.DATABASE_URL });
    await oldPg.connect();
    try {
      await oldPg.query('ALTER TABLE hook_registry.hooks DROP COLUMN event_types, DROP COLUMN integration_names, DROP COLUMN table_names, DROP COLUMN headers, DROP COLUMN rate_limit_per_s');
      await oldPg.query(`DELETE FROM hook_registry.migrations WHERE name = 'HookSettings1764002000000'`);
      const upgraded = await Registry.start('hook_settings_upgrade');
      try {
        const res = await upgraded.call<HookWithSettings>('GET', `/v1/hooks/${before.hook.id}`, { token: before.key });
        expect(res.status).toBe(200);
        expect(res.body.settings).toEqual(DEFAULTS);
        expect(res.body.modified_at).toBe(before.hook.modified_at);
      } finally {
        await upgraded.stop();
      }
    } finally {
      await oldPg.end();
    }
  });

  it('saves any subset of the settings, masks header values in every response, and leaves the Stitch routes as they were', async () => {
    const { key, accountId, hook } = await setup();
    const saved = await put(key, hook.id, { event_types: ['table.loaded', 'load.started'], integration_names: ['shopify'], headers: { 'X-Api-Key': CLEAR_VALUE, Authorization: CLEAR_AUTH }, rate_limit_per_s: 10 });
    expect(saved.status).toBe(200);
    const expected: Settings = { event_types: ['table.loaded', 'load.started'], integration_names: ['shopify'], table_names: null, headers: { 'X-Api-Key': '***', Authorization: '***' }, rate_limit_per_s: 10 };
    expect(saved.body).toEqual({ ...hook, secret: undefined, modified_at: expect.any(String), settings: expected });
    expect(Date.parse(saved.body.modified_at)).toBeGreaterThanOrEqual(Date.parse(hook.modified_at));
    expect(saved.text).not.toContain(CLEAR_VALUE);
    expect((await get(key, hook.id)).body.settings).toEqual(expected);

    // A key left out keeps its setting; `***` keeps a stored header, others are replaced.
    const later = await put(key, hook.id, { table_names: ['orders'], headers: { 'x-api-key': '***', 'X-Tenant': 'acme' } });
    expect(later.body.settings).toEqual({ ...expected, table_names: ['orders'], headers: { 'x-api-key': '***', 'X-Tenant': '***' } });
    const [row] = (await pg.query<{ headers: { name: string; value: string }[] }>('SELECT headers FROM hooks WHERE id = $1', [hook.id])).rows;
    expect(row.headers.map((h) => [h.name, box.open(h.value)])).toEqual([['x-api-key', CLEAR_VALUE], ['X-Tenant', 'acme']]);
    // The masked view, sent back as it is, changes nothing.
    const roundTrip = await put(key, hook.id, later.body.settings);
    expect(roundTrip.body.settings).toEqual(later.body.settings);
    expect((await pg.query('SELECT headers FROM hooks WHERE id = $1', [hook.id])).rows[0].headers.map((h: { value: string }) => box.open(h.value))).toEqual([CLEAR_VALUE, 'acme']);
    // Nulls put back the defaults.
    expect((await put(key, hook.id, { integration_names: null, table_names: null, rate_limit_per_s: null, headers: {}, event_types: ['table.loaded', 'table.rejected'] })).body.settings).toEqual(DEFAULTS);
    expect((await put(key, hook.id, { headers: { Authorization: CLEAR_AUTH } })).status).toBe(200);

    // The Stitch routes show nothing new.
    const list = await r.call<{ post_load: Record<string, unknown>[] }>('GET', HOOKS, { token: key });
    expect(Object.keys(list.body)).toEqual(['post_load']);
    expect(Object.keys(list.body.post_load[0]).sort()).toEqual(STITCH_HOOK_KEYS);
    const disabled = await r.call<Record<string, unknown>>('PUT', `${HOOKS}/${hook.id}`, { token: key, json: { enable: false } });
    expect(Object.keys(disabled.body).sort()).toEqual(STITCH_HOOK_KEYS);
    expect(Object.keys(hook).sort()).toEqual([...STITCH_HOOK_KEYS, 'secret'].sort());

    // Audited as its own action.
    const audit = await pg.query<{ action: string }>(`SELECT action FROM audit_log WHERE object_type = 'hook' AND object_id = $1 ORDER BY id`, [hook.id]);
    expect(audit.rows.map((a) => a.action)).toEqual(['hook.created', 'hook.settings_changed', 'hook.settings_changed', 'hook.settings_changed', 'hook.settings_changed', 'hook.settings_changed', 'hook.disabled']);
    expect(accountId).toBeGreaterThan(0);
  });

  it('keeps header values sealed in Postgres and on REGISTRY, where the event carries the settings', async () => {
    const { key, hook } = await setup();
    await put(key, hook.id, { headers: { 'X-Api-Key': CLEAR_VALUE }, event_types: ['load.started'], rate_limit_per_s: 3 });
    const [row] = (await pg.query<{ headers: { name: string; value: string }[] }>('SELECT headers FROM hooks WHERE id = $1', [hook.id])).rows;
    expect(row.headers).toEqual([{ name: 'X-Api-Key', value: expect.stringMatching(/^enc:v1:/) }]);
    expect(JSON.stringify(row)).not.toContain(CLEAR_VALUE);

    const { raw, event } = await registryMessage(hook.id);
    expect(raw).not.toContain(CLEAR_VALUE);
    expect(event.settings).toEqual({ event_types: ['load.started'], integration_names: null, table_names: null, headers: [{ name: 'X-Api-Key', value: expect.stringMatching(/^enc:v1:/) }], rate_limit_per_s: 3 });
    expect(box.open(event.settings!.headers[0].value)).toBe(CLEAR_VALUE);
    expect(event.changed_by).toBe('owner');

    // A deleted hook's last message keeps no header value.
    await r.call('DELETE', `${HOOKS}/${hook.id}`, { token: key });
    expect((await registryMessage(hook.id)).event).toMatchObject({ deleted: true, secrets: [], settings: { headers: [] } });
  });

  it.each<[string, unknown, string | RegExp]>([
    ['an unknown key', { event_type: ['table.loaded'] }, /^unknown key "event_type"/],
    ['an unknown event type', { event_types: ['ping'] }, /^event_types: "ping" is not an event type/],
    ['empty event_types', { event_types: [] }, /^event_types must be a non-empty array/],
    ['duplicate event types', { event_types: ['table.loaded', 'table.loaded'] }, /listed twice/],
    ['[] as a filter', { integration_names: [] }, /would match no event; use null/],
    ['a duplicate table name', { table_names: ['orders', 'orders'] }, /"orders" is listed twice/],
    ['11 headers', { headers: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`X-H${i}`, 'v'])) }, /at most 10 headers/],
    ['a header name with a space', { headers: { 'X Api': 'v' } }, /"X Api" is not a valid header name/],
    ['a header name with a colon', { headers: { 'X-Api:': 'v' } }, /is not a valid header name/],
    ['a unicode header name', { headers: { 'X-Clé': 'v' } }, /is not a valid header name/],
    ['a reserved header (webhook-*)', { headers: { 'webhook-id': 'v' } }, 'headers: webhook-id is set by posthooks itself and cannot be a custom header'],
    ['a reserved header (Host)', { headers: { Host: 'evil.test' } }, /Host is set by posthooks itself/],
    ['a reserved header (Content-Type)', { headers: { 'content-type': 'text/plain' } }, /is set by posthooks itself/],
    ['a header value with CR LF', { headers: { 'X-Api-Key': `${CLEAR_VALUE}\r\nX-Evil: 1` } }, /control character/],
    ['a header value of 1,025 bytes', { headers: { 'X-Api-Key': 'k'.repeat(1025) } }, /is over 1024 bytes/],
    ['*** for a header the hook does not have', { headers: { 'X-New': '***' } }, 'headers: X-New is "***" (keep the stored value), but the hook has no X-New header'],
    ['rate_limit_per_s 1.5', { rate_limit_per_s: 1.5 }, /^rate_limit_per_s must be an integer from 1 to 1000/],
    ['rate_limit_per_s "1000"', { rate_limit_per_s: '1000' }, /^rate_limit_per_s must be an integer/],
    ['rate_limit_per_s 0', { rate_limit_per_s: 0 }, /^rate_limit_per_s must be an integer/],
    ['verify "true"', { verify: 'true' }, /^verify must be true or false/],
    ['an array body', [{ event_types: ['table.loaded'] }], /^the body must be a JSON object/],
  ])('refuses %s with 400 InvalidBody, saving nothing', async (_, json, expected) => {
    const { key, hook } = await setup();
    const res = await put(key, hook.id, json);
    expect([res.status, res.body]).toEqual([400, invalid(expected)]);
    expect(res.text).not.toContain(CLEAR_VALUE);
    expect((await get(key, hook.id)).body.settings).toEqual(DEFAULTS);
  });

  it('refuses what is not a JSON object of settings at all: bad JSON, deep nesting, no JSON type, a 1 MB body', async () => {
    const { key, hook } = await setup();
    const path = `/v1/hooks/${hook.id}/settings`;
    const call = (raw: string, contentType?: string) => r.call('PUT', path, { token: key, raw, contentType });
    expect(await call('{"event_types":')).toMatchObject({ status: 400, body: invalid('request body is not valid JSON') });
    expect(await call(`{"headers":${'['.repeat(5000)}${']'.repeat(5000)}}`)).toMatchObject({ status: 400, body: invalid(/nested deeper than/) });
    expect(await call('{"event_types":["table.loaded"]}', 'text/plain')).toMatchObject({ status: 400, body: invalid(/^the body must be a JSON object/) });
    expect(await call(JSON.stringify({ headers: { 'X-Api-Key': 'k'.repeat(1024 * 1024) } }))).toMatchObject({ status: 413, body: { error: 'request body is too large' } });
    expect(await call('{"table_names":["a\\u0000b"]}')).toMatchObject({ status: 400, body: invalid(/control character/) });
    expect(await call('{"headers":{"__proto__":"x"}}')).toMatchObject({ status: 400, body: invalid(/forbidden key/) });
    expect((await get(key, hook.id)).body.settings).toEqual(DEFAULTS);
  });

  it("answers 404 for another account's hook, an unknown id, or no id at all, and 401 without a key", async () => {
    const mine = await setup();
    const theirs = await setup();
    for (const id of [theirs.hook.id, 999_999_999, 'abc', '1e3']) {
      expect(await get(mine.key, id)).toMatchObject({ status: 404, body: { error: 'NotFound' } });
      expect(await put(mine.key, id, { rate_limit_per_s: 5 })).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    }
    expect((await get(theirs.key, theirs.hook.id)).body.settings).toEqual(DEFAULTS);
    expect(await r.call('PUT', `/v1/hooks/${mine.hook.id}/settings`, { json: { rate_limit_per_s: 5 } })).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
    expect(await get(TEST_ADMIN_TOKEN, mine.hook.id)).toMatchObject({ status: 401 });
  });

  it('saves settings on a disabled hook and on a plan without hooks, but refuses verify there (409, nothing saved)', async () => {
    const { key, accountId, hook } = await setup();
    await r.call('PUT', `/v1/accounts/${accountId}/plan`, { token: TEST_ADMIN_TOKEN, json: { plan: 'standard' } });
    const res = await put(key, hook.id, { rate_limit_per_s: 7 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ disabled_reason: 'plan_downgrade', settings: { rate_limit_per_s: 7 } });
    const refused = await put(key, hook.id, { rate_limit_per_s: 8, verify: true });
    expect([refused.status, refused.body]).toEqual([409, { error: 'the hook is disabled: enable it to verify it' }]);
    expect((await get(key, hook.id)).body.settings.rate_limit_per_s).toBe(7);
  });

  it('verifies: sends the hook as just saved (values sealed) on hook.verify and adds the answer', async () => {
    const { key, hook } = await setup();
    await put(key, hook.id, { headers: { Authorization: CLEAR_AUTH } });
    const responder = verifyResponder(() => ({ status_code: 204, duration_ms: 42, error: null, extra: 'ignored' }));
    try {
      await nc.flush();
      const res = await put(key, hook.id, { headers: { Authorization: '***', 'X-Api-Key': CLEAR_VALUE }, table_names: ['orders'], verify: true });
      expect(res.status).toBe(200);
      expect(res.body.verify).toEqual({ status_code: 204, duration_ms: 42, error: null });
      expect(res.body.settings).toMatchObject({ table_names: ['orders'], headers: { Authorization: '***', 'X-Api-Key': '***' } });
      expect(res.text).not.toContain(CLEAR_VALUE);

      expect(responder.requests).toHaveLength(1);
      const [request] = responder.requests;
      expect(request.event_id).toMatch(/^ping-[0-9a-f-]{36}$/);
      expect(request.hook).toMatchObject({ hook_id: hook.id, url: hook.config.url, deleted: false, changed_by: 'owner', settings: { table_names: ['orders'] } });
      // Secrets and header values travel sealed; the key opens them to what was set.
      expect(responder.raw[0]).not.toContain(CLEAR_VALUE);
      expect(responder.raw[0]).not.toContain(CLEAR_AUTH);
      expect(responder.raw[0]).not.toContain(hook.secret);
      expect(request.hook.secrets.map((s) => isSealed(s.secret) && box.open(s.secret))).toEqual([hook.secret]);
      expect(request.hook.settings!.headers.map((h) => [h.name, isSealed(h.value) && box.open(h.value)])).toEqual([['Authorization', CLEAR_AUTH], ['X-Api-Key', CLEAR_VALUE]]);

      // verify alone saves nothing (no new event, no audit row) and pings again.
      const audited = async () => Number((await pg.query(`SELECT count(*) FROM audit_log WHERE object_id = $1 AND action = 'hook.settings_changed'`, [hook.id])).rows[0].count);
      const before = await audited();
      expect((await put(key, hook.id, { verify: true })).body.verify).toEqual({ status_code: 204, duration_ms: 42, error: null });
      expect(await audited()).toBe(before);
      expect(responder.requests).toHaveLength(2);
    } finally {
      responder.sub.unsubscribe();
    }
  });

  it("reports the receiver's failure as the dispatcher answers it, and a dispatcher that does not answer, with the settings saved", async () => {
    const { key, hook } = await setup();
    const failing = verifyResponder(() => ({ status_code: 401, duration_ms: 12, error: 'HTTP 401' }));
    await nc.flush();
    expect((await put(key, hook.id, { verify: true })).body.verify).toEqual({ status_code: 401, duration_ms: 12, error: 'HTTP 401' });
    failing.sub.unsubscribe();
    await nc.flush();

    // No responder at all: NATS says so at once.
    const started = Date.now();
    const none = await put(key, hook.id, { rate_limit_per_s: 2, verify: true });
    expect(none.status).toBe(200);
    expect(none.body.verify).toEqual({ status_code: null, duration_ms: null, error: 'the dispatcher did not answer' });
    expect(none.body.settings.rate_limit_per_s).toBe(2);
    expect(Date.now() - started).toBeLessThan(1500);

    // A responder that never answers: the wait ends at HOOK_VERIFY_TIMEOUT_MS (1.5 s here).
    const silent = verifyResponder(() => undefined);
    try {
      await nc.flush();
      const timedOut = await put(key, hook.id, { rate_limit_per_s: 3, verify: true });
      expect(timedOut.body.verify).toEqual({ status_code: null, duration_ms: null, error: 'the dispatcher did not answer' });
      expect(silent.requests).toHaveLength(1);
      expect((await get(key, hook.id)).body.settings.rate_limit_per_s).toBe(3);
    } finally {
      silent.sub.unsubscribe();
    }

    // An answer that is not a HookVerifyReply is reported as such.
    const garbled = verifyResponder(() => ({ status_code: '200' }));
    try {
      await nc.flush();
      expect((await put(key, hook.id, { verify: true })).body.verify).toEqual({ status_code: null, duration_ms: null, error: "the dispatcher's answer could not be read" });
    } finally {
      garbled.sub.unsubscribe();
    }
  });

  it('leaves one whole update in force after concurrent PUTs, the same in Postgres, GET and REGISTRY', async () => {
    const { key, hook } = await setup();
    const bodies = Array.from({ length: 12 }, (_, i) => ({ table_names: [`t${i}`], rate_limit_per_s: i + 1, headers: { [`X-N${i}`]: `v${i}` } }));
    const replies: Reply<HookWithSettings>[] = await Promise.all(bodies.map((json) => put(key, hook.id, json)));
    expect(replies.map((res) => res.status)).toEqual(bodies.map(() => 200));
    // Each reply shows its own update whole: none saw another's half.
    replies.forEach((res, i) => expect(res.body.settings).toEqual({ ...DEFAULTS, table_names: [`t${i}`], rate_limit_per_s: i + 1, headers: { [`X-N${i}`]: '***' } }));

    const final = (await get(key, hook.id)).body.settings;
    const winner = final.rate_limit_per_s! - 1;
    expect(final).toEqual({ ...DEFAULTS, table_names: [`t${winner}`], rate_limit_per_s: winner + 1, headers: { [`X-N${winner}`]: '***' } });
    const { event } = await registryMessage(hook.id);
    expect({ ...event.settings, headers: event.settings!.headers.map((h) => [h.name, box.open(h.value)]) }).toEqual({ ...final, headers: [[`X-N${winner}`, `v${winner}`]] });
    const audit = await pg.query(`SELECT count(*) FROM audit_log WHERE object_id = $1 AND action = 'hook.settings_changed'`, [hook.id]);
    expect(Number(audit.rows[0].count)).toBe(bodies.length);
  });

  it('never writes a header value to its logs', async () => {
    await r.published();
    await waitFor('something logged', () => logged.length > 0);
    const all = logged.join('');
    // The capture holds the registry's own lines (the verify that got no answer, earlier).
    expect(all).toContain('got no answer');
    for (const value of [CLEAR_VALUE, CLEAR_AUTH]) expect(all).not.toContain(value);
    expect(all).not.toMatch(/never_shown/);
  });
});
