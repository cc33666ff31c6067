import { ErrorBodies } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN } from '@posthooks/testing';
import { HOOKS, Registry } from './registry-harness';

/** SPEC §3: paths, bodies and every row of the error table, byte for byte. */
describe('the Stitch hooks API', () => {
  let r: Registry;
  let key: string;
  let destination: number;

  beforeAll(async () => {
    r = await Registry.start('registry_api');
    const a = await r.account('advanced');
    key = a.key;
    destination = await r.destination(key);
  });
  afterAll(() => r.stop());

  const post = (json: unknown) => r.call('POST', HOOKS, { token: key, json });
  const valid = () => ({ type: 'post_load', destination_id: destination, config: { url: 'https://hooks.acme.test/x' } });

  it('creates a hook: 200, the hook object, and the secret only here', async () => {
    const res = await post(valid());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.any(Number),
      client_id: expect.any(Number),
      type: 'post_load',
      version: 1,
      config: { url: 'https://hooks.acme.test/x', destination_id: destination },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      modified_at: expect.stringMatching(/Z$/),
      disabled_at: null,
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    expect(Buffer.from((res.body as { secret: string }).secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
  });

  it('lists hooks, disabled ones too, without secrets', async () => {
    const h = await r.hook(key, destination);
    await r.call('PUT', `${HOOKS}/${h.id}`, { token: key, json: { enable: false } });
    const res = await r.call<{ post_load: Record<string, unknown>[] }>('GET', HOOKS, { token: key });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['post_load']);
    const listed = res.body.post_load.find((x) => x.id === h.id);
    expect(listed).toMatchObject({ id: h.id, disabled_reason: 'manual', disabled_at: expect.any(String) });
    expect(res.text).not.toContain('whsec_');
    expect(res.body.post_load.every((x) => !('secret' in x))).toBe(true);
  });

  it('enables and disables with {"enable":bool}, returning the hook', async () => {
    const h = await r.hook(key, destination);
    const off = await r.call<{ disabled_at: string | null; disabled_reason: string | null }>('PUT', `${HOOKS}/${h.id}`, { token: key, json: { enable: false } });
    expect([off.status, off.body.disabled_reason, typeof off.body.disabled_at]).toEqual([200, 'manual', 'string']);
    const on = await r.call<{ disabled_at: string | null; modified_at: string }>('PUT', `${HOOKS}/${h.id}`, { token: key, json: { enable: true } });
    expect([on.status, on.body.disabled_at]).toEqual([200, null]);
    expect(on.body.modified_at >= h.modified_at).toBe(true);
  });

  it('deletes: 200 with the JSON body null, then the hook is gone', async () => {
    const h = await r.hook(key, destination);
    const res = await r.call('DELETE', `${HOOKS}/${h.id}`, { token: key });
    expect([res.status, res.text]).toEqual([200, 'null']);
    expect((await r.hooks(key)).some((x) => x.id === h.id)).toBe(false);
    expect((await r.call('DELETE', `${HOOKS}/${h.id}`, { token: key })).body).toEqual(ErrorBodies.notFound);
  });

  describe('refuses a POST body that is missing, extra or mistyped with InvalidBody', () => {
    const cases: [string, unknown][] = [
      ['no type', { destination_id: 1, config: { url: 'https://a.test/x' } }],
      ['no destination_id', { type: 'post_load', config: { url: 'https://a.test/x' } }],
      ['no config', { type: 'post_load', destination_id: 1 }],
      ['no url', { type: 'post_load', destination_id: 1, config: {} }],
      ['an extra field', { type: 'post_load', destination_id: 1, config: { url: 'https://a.test/x' }, enabled: true }],
      ['an extra config field', { type: 'post_load', destination_id: 1, config: { url: 'https://a.test/x', secret: 'x' } }],
      ['another type', { type: 'pre_load', destination_id: 1, config: { url: 'https://a.test/x' } }],
      ['destination_id as a string', { type: 'post_load', destination_id: '1', config: { url: 'https://a.test/x' } }],
      ['destination_id as a float', { type: 'post_load', destination_id: 1.5, config: { url: 'https://a.test/x' } }],
      ['url as a number', { type: 'post_load', destination_id: 1, config: { url: 42 } }],
      ['config as a string', { type: 'post_load', destination_id: 1, config: 'https://a.test/x' }],
      ['an array', [{ type: 'post_load', destination_id: 1, config: { url: 'https://a.test/x' } }]],
      ['null', null],
    ];
    it.each(cases)('%s', async (_, body) => {
      const res = await post(body);
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidPostBody]);
    });

    it('a body that is not JSON', async () => {
      const res = await r.call('POST', HOOKS, { token: key, raw: '{"type":"post_load",' });
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidPostBody]);
    });

    it('no body at all', async () => {
      const res = await r.call('POST', HOOKS, { token: key });
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidPostBody]);
    });
  });

  describe('refuses hostile URLs with Invalid URI', () => {
    const hostile = [
      'http://hooks.acme.test/x',
      'ftp://hooks.acme.test/x',
      'javascript:alert(1)',
      'data:text/plain,hi',
      'file:///etc/passwd',
      '/relative/path',
      '//hooks.acme.test/x',
      'hooks.acme.test/x',
      'https://user:pass@hooks.acme.test/x',
      'https://user@hooks.acme.test/x',
      `https://hooks.acme.test/${'a'.repeat(2049)}`,
      'https://',
      'https://exa mple.com/x',
      'https://-bad.example.com/',
      'https://a..example.com/',
      'https://localhost/x',
      'https://localhost./x',
      'https://127.0.0.1/x',
      'https://2130706433/x',
      'https://0x7f.0.0.1/x',
      'https://017700000001/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.8/x',
      'https://192.168.1.1/x',
      'https://100.64.0.1/x',
      'https://0.0.0.0/x',
      '',
    ];
    it.each(hostile)('%s', async (url) => {
      const res = await post({ type: 'post_load', destination_id: destination, config: { url } });
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidUri]);
    });

    it('accepts a URL of exactly 2,048 characters', async () => {
      const base = 'https://hooks.acme.test/';
      const res = await post({ type: 'post_load', destination_id: destination, config: { url: base + 'a'.repeat(2048 - base.length) } });
      expect(res.status).toBe(200);
      await r.call('DELETE', `${HOOKS}/${(res.body as { id: number }).id}`, { token: key });
    });
  });

  describe('refuses a PUT body other than exactly {"enable":<boolean>}', () => {
    let hookId: number;
    beforeAll(async () => (hookId = (await r.hook(key, destination)).id));
    const bodies: unknown[] = [{}, { enable: 'true' }, { enable: 1 }, { enable: null }, { enable: true, url: 'https://x.test' }, { disable: true }, [true], 'true'];
    it.each(bodies.map((b) => [JSON.stringify(b), b]))('%s', async (_, json) => {
      const res = await r.call('PUT', `${HOOKS}/${hookId}`, { token: key, json });
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidPutBody]);
    });
    it('a body that is not JSON', async () => {
      const res = await r.call('PUT', `${HOOKS}/${hookId}`, { token: key, raw: '{enable:true}' });
      expect([res.status, res.body]).toEqual([400, ErrorBodies.invalidPutBody]);
    });
  });

  it('answers 404 NotFound for an unknown id, and for ids that are not ids', async () => {
    for (const id of ['999999', '0', '-1', 'abc', '1e3', '..%2F..%2Fetc', "1'%20OR%20'1'='1", '99999999999999999999']) {
      for (const [method, json] of [['PUT', { enable: true }], ['DELETE', undefined]] as const) {
        const res = await r.call(method, `${HOOKS}/${id}`, { token: key, json });
        expect({ id, method, status: res.status, body: res.body }).toEqual({ id, method, status: 404, body: ErrorBodies.notFound });
      }
    }
  });

  it('answers 404 NotFound for a destination that is not the account\'s', async () => {
    const other = await r.account('advanced');
    const theirs = await r.destination(other.key);
    for (const destination_id of [theirs, 987654]) {
      const res = await post({ type: 'post_load', destination_id, config: { url: 'https://hooks.acme.test/x' } });
      expect([res.status, res.body]).toEqual([404, ErrorBodies.notFound]);
    }
  });

  it('refuses a missing or wrong key with 401 Unauthorized, on every route', async () => {
    for (const token of [undefined, 'phk_not-a-key', TEST_ADMIN_TOKEN]) {
      for (const [method, path] of [['GET', HOOKS], ['POST', HOOKS], ['PUT', `${HOOKS}/1`], ['DELETE', `${HOOKS}/1`], ['POST', '/v1/hooks/1/rotate-secret'], ['GET', '/v1/destinations']]) {
        const res = await r.call(method, path, { token, json: method === 'GET' || method === 'DELETE' ? undefined : {} });
        expect({ token, method, path, status: res.status, body: res.body }).toEqual({ token, method, path, status: 401, body: ErrorBodies.unauthorized });
      }
    }
  });

  it('keeps the admin API for the admin token only', async () => {
    for (const token of [undefined, key, 'wrong']) {
      const res = await r.call('POST', '/v1/accounts', { token, json: { name: 'x', plan: 'advanced', notification_email: 'a@b.test' } });
      expect([res.status, res.body]).toEqual([401, ErrorBodies.unauthorized]);
    }
  });

  it('rotates a secret: a new whsec_ secret, different each time', async () => {
    const h = await r.hook(key, destination);
    const a = await r.call<{ secret: string }>('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: key });
    const b = await r.call<{ secret: string }>('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: key });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.secret).toMatch(/^whsec_/);
    expect(new Set([h.secret, a.body.secret, b.body.secret]).size).toBe(3);
  });

  it('asks for a ping with POST /v1/hooks/{id}/test: 202, and the request is on the DELIVERIES stream', async () => {
    const h = await r.hook(key, destination);
    const res = await r.call<{ event_id: string }>('POST', `/v1/hooks/${h.id}/test`, { token: key });
    expect(res.status).toBe(202);
    expect(res.body.event_id).toMatch(/^ping-/);
    const { connect } = await import('nats');
    const nc = await connect({ servers: r.env.NATS_URL });
    const jsm = await nc.jetstreamManager();
    const stream = `${r.env.NATS_NAMESPACE.toUpperCase()}_DELIVERIES`;
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const m = await jsm.streams.getMessage(stream, { seq: last });
    await nc.close();
    expect(m.json()).toMatchObject({ hook_id: h.id, event_id: res.body.event_id });

    await r.call('PUT', `${HOOKS}/${h.id}`, { token: key, json: { enable: false } });
    expect((await r.call('POST', `/v1/hooks/${h.id}/test`, { token: key })).status).toBe(409);
    const other = await r.account();
    expect(await r.call('POST', `/v1/hooks/${h.id}/test`, { token: other.key })).toMatchObject({ status: 404, body: ErrorBodies.notFound });
  });
});
