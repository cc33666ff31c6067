import { ErrorBodies } from '@posthooks/contracts';
import { request as httpRequest } from 'node:http';
import { Gateway } from './gateway-harness';

/** SPEC §7: integrations, their secret URLs, and POSTs to them. */
describe('incoming webhooks', () => {
  let g: Gateway;
  let acc: { id: number; key: string; destinationId: number };
  let integration: { id: number; webhook_url: string; url_id: number; schema: string; primary_key: string | null };

  beforeAll(async () => {
    g = await Gateway.start('gateway_incoming', { MAX_BODY_BYTES: String(4 * 1024 * 1024) });
    acc = await g.account();
    integration = (await g.api<typeof integration>('POST', '/v1/integrations', acc.key, { name: 'shopify', destination_id: acc.destinationId, primary_key: 'id' })).body;
  });
  afterAll(() => g.stop());

  const post = (url: string, body: string | Buffer, contentType = 'application/json', method = 'POST') =>
    fetch(url, { method, headers: { 'content-type': contentType }, body: method === 'GET' || method === 'HEAD' ? undefined : body }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.text()) || null }));

  it('creates an integration with a secret webhook URL, shown once', async () => {
    expect(integration).toEqual({
      id: expect.any(Number),
      name: 'shopify',
      destination_id: acc.destinationId,
      primary_key: 'id',
      schema: 'shopify',
      created_at: expect.any(String),
      webhook_url: expect.stringMatching(/^http:\/\/localhost:3001\/v1\/incoming\/whk_[A-Za-z0-9_-]{43}$/),
      url_id: expect.any(Number),
    });
    const list = await g.api<{ urls: unknown[] }[]>('GET', '/v1/integrations', acc.key);
    expect(JSON.stringify(list.body)).not.toContain(integration.webhook_url.split('/').pop());
  });

  const urlOf = (webhookUrl: string) => `${g.url}${new URL(webhookUrl).pathname}`;

  it('accepts an object or an array: 202 {"accepted":n} once JetStream has the records', async () => {
    const one = await post(urlOf(integration.webhook_url), '{"id":1,"total":9.5}');
    expect([one.status, JSON.parse(one.body!)]).toEqual([202, { accepted: 1 }]);
    const many = await post(urlOf(integration.webhook_url), JSON.stringify([{ id: 2 }, { id: 3 }, { id: 4 }]), 'application/json; charset=utf-8');
    expect([many.status, JSON.parse(many.body!)]).toEqual([202, { accepted: 3 }]);
    const stored = await g.ingested();
    expect(stored.flatMap((m) => m.records)).toEqual(expect.arrayContaining([{ id: 1, total: 9.5 }, { id: 2 }, { id: 3 }, { id: 4 }]));
    expect(stored[0]).toMatchObject({ integration_id: integration.id, client_id: acc.id, destination_id: acc.destinationId, integration_name: 'shopify', schema: 'shopify', primary_key: 'id', part: 0 });
  });

  it('takes 10,000 records in one array, split into parts that each fit a NATS message', async () => {
    const before = (await g.ingested()).length;
    const records = Array.from({ length: 10_000 }, (_, i) => ({ id: 10_000 + i, note: 'x'.repeat(100) }));
    const res = await post(urlOf(integration.webhook_url), JSON.stringify(records));
    expect([res.status, JSON.parse(res.body!)]).toEqual([202, { accepted: 10_000 }]);
    const parts = (await g.ingested()).slice(before);
    expect(parts.length).toBeGreaterThan(1);
    expect(new Set(parts.map((p) => p.request_id)).size).toBe(1);
    expect(parts.flatMap((p) => p.records)).toHaveLength(10_000);
  });

  it('takes an empty array as nothing to store: 202 {"accepted":0}', async () => {
    const res = await post(urlOf(integration.webhook_url), '[]');
    expect([res.status, JSON.parse(res.body!)]).toEqual([202, { accepted: 0 }]);
  });

  it('stores each of many small posts sent at once, however they share INGEST messages', async () => {
    const before = (await g.ingested()).length;
    const ids = Array.from({ length: 40 }, (_, i) => 20_000 + i);
    const answers = await Promise.all(ids.map((id) => post(urlOf(integration.webhook_url), JSON.stringify({ id }))));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 202));
    const stored = (await g.ingested()).slice(before);
    expect(stored.flatMap((m) => m.records.map((r) => r.id)).sort()).toEqual(ids);
    for (const m of stored) expect(m).toMatchObject({ integration_id: integration.id, primary_key: 'id', part: 0 });
    expect(new Set(stored.map((m) => m.request_id)).size).toBe(stored.length);
  });

  it('answers the URL however Express would route it: any case, a trailing slash, the absolute form', async () => {
    const path = new URL(integration.webhook_url).pathname;
    const { hostname, port } = new URL(g.url);
    const send = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ hostname, port, path: target, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => (res.resume(), resolve(res.statusCode!)));
        req.on('error', reject);
        req.end('{"id":30000}');
      });
    expect(await send(path.replace('/v1/incoming/', '/V1/Incoming/'))).toBe(202);
    expect(await send(`${path}/`)).toBe(202);
    expect(await send(`${g.url}${path}?x=1`)).toBe(202); // left to Express and the Nest route
    expect(await send(`${path}/more`)).toBe(404);
  });

  it('times every post in the HTTP metrics under the route\'s pattern, never its token', async () => {
    await post(urlOf(integration.webhook_url), '{"id":8}', 'text/plain');
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/posthooks_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/incoming\/:token",status="202"\} [1-9]/);
    expect(metrics).toMatch(/posthooks_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/incoming\/:token",status="415"\} [1-9]/);
    expect(metrics).not.toContain(new URL(integration.webhook_url).pathname.split('/').pop());
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await post(urlOf(integration.webhook_url), '{}', 'application/json', method);
      expect([res.status, res.headers.get('allow'), JSON.parse(res.body!)]).toEqual([405, 'POST', { error: expect.stringContaining(method) }]);
    }
  });

  it('answers 415 to a content type other than JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(urlOf(integration.webhook_url), '{"id":1}', type);
      expect([res.status, JSON.parse(res.body!)]).toEqual([415, { error: 'Content-Type must be application/json' }]);
    }
  });

  it('answers 400 to invalid JSON, a scalar, an array of scalars, and invalid UTF-8', async () => {
    for (const body of ['{"id":', '42', '"text"', 'null', '[1,2]', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])]) {
      const res = await post(urlOf(integration.webhook_url), body);
      expect({ body: String(body), status: res.status }).toEqual({ body: String(body), status: 400 });
      expect(JSON.parse(res.body!)).toEqual({ error: expect.any(String) });
    }
  });

  it('answers 413 to 4 MiB + 1 byte, without reading it', async () => {
    const exact = 4 * 1024 * 1024;
    const justRight = Buffer.from(`[{"id":1}${' '.repeat(exact - 10)}]`);
    expect(justRight.length).toBe(exact);
    expect((await post(urlOf(integration.webhook_url), justRight)).status).toBe(202);
    const tooBig = Buffer.concat([justRight, Buffer.from(' ')]);
    const res = await post(urlOf(integration.webhook_url), tooBig);
    expect([res.status, JSON.parse(res.body!)]).toEqual([413, { error: `body is larger than ${exact} bytes` }]);
  });

  it('answers 413 to a chunked body that grows past the limit, as soon as it does', async () => {
    const { hostname, port, pathname } = new URL(urlOf(integration.webhook_url));
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ hostname, port, path: pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      // Keep sending (up to 64 MiB) until the gateway answers: it must not wait for the end.
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && req.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) req.once('drain', pump);
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('answers 404 to an unknown token, and to a revoked URL at once', async () => {
    const unknown = await post(`${g.url}/v1/incoming/whk_${'A'.repeat(43)}`, '{}');
    expect([unknown.status, JSON.parse(unknown.body!)]).toEqual([404, { error: 'unknown or revoked webhook URL' }]);
    for (const weird of ['..%2F..%2Fetc', "x'%20OR%201=1", 'whk_short']) expect((await post(`${g.url}/v1/incoming/${weird}`, '{}')).status).toBe(404);

    const second = await g.api<{ id: number; webhook_url: string }>('POST', `/v1/integrations/${integration.id}/urls`, acc.key);
    expect(second.status).toBe(201);
    expect((await post(urlOf(second.body.webhook_url), '{"id":5}')).status).toBe(202);
    const revoked = await g.api('DELETE', `/v1/integrations/${integration.id}/urls/${second.body.id}`, acc.key);
    expect(revoked.status).toBe(200);
    expect((await post(urlOf(second.body.webhook_url), '{"id":6}')).status).toBe(404);
    expect((await post(urlOf(integration.webhook_url), '{"id":7}')).status).toBe(202);
  });

  it('keeps at most two live URLs per integration', async () => {
    const i = (await g.api<{ id: number }>('POST', '/v1/integrations', acc.key, { name: 'stripe', destination_id: acc.destinationId })).body;
    const second = await g.api('POST', `/v1/integrations/${i.id}/urls`, acc.key);
    const third = await g.api('POST', `/v1/integrations/${i.id}/urls`, acc.key);
    expect([second.status, third.status]).toEqual([201, 409]);
    expect(third.body).toEqual({ error: expect.stringContaining('at most 2 live webhook URLs') });
  });

  it('validates integrations: name, primary key of at most 50 characters, the account\'s own destination', async () => {
    const bad = [
      { name: 'Has Spaces', destination_id: acc.destinationId },
      { name: 'ok', destination_id: 'one' },
      { name: 'ok', destination_id: acc.destinationId, primary_key: 'k'.repeat(51) },
      { name: 'ok', destination_id: acc.destinationId, extra: true },
    ];
    for (const json of bad) expect((await g.api('POST', '/v1/integrations', acc.key, json)).status).toBe(400);
    const other = await g.account();
    expect(await g.api('POST', '/v1/integrations', acc.key, { name: 'ok', destination_id: other.destinationId })).toEqual({ status: 404, body: ErrorBodies.notFound });
    expect((await g.api('POST', '/v1/integrations', acc.key, { name: 'ok', destination_id: acc.destinationId, primary_key: 'k'.repeat(50) })).status).toBe(201);
  });

  it('keeps integrations to their account', async () => {
    const other = await g.account();
    expect(await g.api('POST', `/v1/integrations/${integration.id}/urls`, other.key)).toEqual({ status: 404, body: ErrorBodies.notFound });
    expect(await g.api('DELETE', `/v1/integrations/${integration.id}/urls/${integration.url_id}`, other.key)).toEqual({ status: 404, body: ErrorBodies.notFound });
    expect((await g.api<unknown[]>('GET', '/v1/integrations', other.key)).body).toEqual([]);
    expect(await g.api('GET', '/v1/integrations')).toEqual({ status: 401, body: ErrorBodies.unauthorized });
  });
});
