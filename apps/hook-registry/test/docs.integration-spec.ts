import { ErrorBodies } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN } from '@posthooks/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOOKS, Registry } from './registry-harness';

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }>;
}
interface OpenApi {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
}

/** Every route the registry serves, as OpenAPI names it. */
const ROUTES: Record<string, string[]> = {
  '/v1/accounts': ['post'],
  '/v1/accounts/{id}': ['get'],
  '/v1/accounts/{id}/plan': ['put'],
  '/v1/accounts/{id}/api-keys': ['post'],
  '/v1/accounts/{id}/api-keys/{keyId}': ['delete'],
  '/v1/accounts/{id}/notifications': ['put'],
  '/v1/destinations': ['get', 'post'],
  '/v1/destinations/{id}': ['delete', 'put'],
  [HOOKS]: ['get', 'post'],
  [`${HOOKS}/{id}`]: ['delete', 'put'],
  '/v1/hooks/{id}': ['get'],
  '/v1/hooks/{id}/settings': ['put'],
  '/v1/hooks/{id}/rotate-secret': ['post'],
  '/v1/hooks/{id}/test': ['post'],
};

/** SPEC §1: `GET /docs` is the registry's OpenAPI description, with the error bodies. */
describe('GET /docs', () => {
  let r: Registry;
  let doc: OpenApi;

  beforeAll(async () => {
    r = await Registry.start('registry_docs');
    const res = await r.call<OpenApi>('GET', '/docs');
    doc = res.body;
  });
  afterAll(() => r.stop());

  const examples = (path: string, method: string, status: number) =>
    Object.values(doc.paths[path][method].responses[status]?.content?.['application/json'].examples ?? {}).map((e) => e.value);

  it('is OpenAPI 3 JSON, needs no key, and carries the project version', async () => {
    const res = await fetch(`${r.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\./);
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('lists every route with its methods, and nothing else (no /health, /metrics)', () => {
    const listed = Object.fromEntries(Object.entries(doc.paths).map(([path, ops]) => [path, Object.keys(ops).sort()]));
    expect(listed).toEqual(ROUTES);
  });

  it('documents the bearer key and the 401 body on every route', () => {
    for (const [path, methods] of Object.entries(ROUTES)) {
      for (const method of methods) {
        expect(doc.paths[path][method].security).toEqual([{ bearer: [] }]);
        expect(examples(path, method, 401)).toEqual([ErrorBodies.unauthorized]);
      }
    }
  });

  it('documents the hooks POST body and its exact Stitch error bodies', () => {
    expect(doc.paths[HOOKS].post.requestBody?.content['application/json'].schema).toMatchObject({
      required: ['type', 'destination_id', 'config'],
      properties: { type: { enum: ['post_load'] }, destination_id: { type: 'integer' }, config: { required: ['url'] } },
    });
    expect(examples(HOOKS, 'post', 400)).toEqual([ErrorBodies.invalidPostBody, ErrorBodies.invalidUri, ErrorBodies.notEntitled, ErrorBodies.hookLimit]);
    expect(examples(HOOKS, 'post', 404)).toEqual([ErrorBodies.notFound]);
    expect(examples(`${HOOKS}/{id}`, 'put', 400)).toEqual([ErrorBodies.invalidPutBody, ErrorBodies.notEntitled]);
    expect(examples(`${HOOKS}/{id}`, 'put', 404)).toEqual([ErrorBodies.notFound]);
  });

  // The validation messages in /docs are written out; these show they are the API's own.
  it.each([
    ['POST', '/v1/accounts', { name: 'acme', plan: 'gold', notification_email: 'data@acme.test' }, '/v1/accounts', 'post'],
    ['POST', '/v1/accounts', { name: 'acme', plan: 'advanced', notification_email: 'nope' }, '/v1/accounts', 'post'],
    ['POST', '/v1/accounts', { name: 'acme', plan: 'advanced', notification_email: 'data@acme.test', extra: 1 }, '/v1/accounts', 'post'],
    ['PUT', '/v1/accounts/1/plan', { plan: 'gold' }, '/v1/accounts/{id}/plan', 'put'],
    ['POST', '/v1/accounts/1/api-keys', { label: '' }, '/v1/accounts/{id}/api-keys', 'post'],
    ['PUT', '/v1/accounts/1/notifications', { undeliverable_email: 'yes' }, '/v1/accounts/{id}/notifications', 'put'],
  ])('documents the 400 that %s %s answers to %j', async (method, url, json, path, op) => {
    const res = await r.call(method, url, { token: TEST_ADMIN_TOKEN, json });
    expect(res.status).toBe(400);
    expect(examples(path, op, 400)).toContainEqual(res.body);
  });

  it('documents the 400 of a bad destination and of unparsable JSON', async () => {
    const { key } = await r.account();
    for (const json of [{ name: 'w', type: 'mysql' }, { name: 'w', type: 'postgres', connection: { url: 'mysql://u:p@db.acme.test/w' } }]) {
      const res = await r.call('POST', '/v1/destinations', { token: key, json });
      expect(examples('/v1/destinations', 'post', 400)).toContainEqual(res.body);
    }
    const res = await r.call('POST', '/v1/accounts', { token: TEST_ADMIN_TOKEN, raw: '{' });
    expect(examples('/v1/accounts', 'post', 400)).toContainEqual(res.body);
  });

  it('documents the settings routes: the body, the masked hook, verify, and every error body the API sends', async () => {
    const settings = '/v1/hooks/{id}/settings';
    expect(doc.paths[settings].put.requestBody?.content['application/json'].schema).toMatchObject({
      additionalProperties: false,
      properties: { event_types: { items: { enum: ['table.loaded', 'table.rejected', 'load.started'] } }, headers: { maxProperties: 10 }, rate_limit_per_s: { minimum: 1, maximum: 1000 }, verify: { type: 'boolean' } },
    });
    expect(examples('/v1/hooks/{id}', 'get', 200)).toEqual([expect.objectContaining({ settings: expect.objectContaining({ headers: { 'X-Api-Key': '***' } }) })]);
    expect(examples(settings, 'put', 200)).toContainEqual(expect.objectContaining({ verify: { status_code: null, duration_ms: null, error: 'the dispatcher did not answer' } }));
    expect(examples('/v1/hooks/{id}', 'get', 404)).toEqual([ErrorBodies.notFound]);
    expect(examples(settings, 'put', 404)).toEqual([ErrorBodies.notFound]);
    expect(doc.paths[settings].put.responses[409]).toBeDefined();

    // The 400 examples are what the API answers.
    const { key } = await r.account();
    const destination = await r.destination(key);
    const hook = await r.hook(key, destination);
    const documented = examples(settings, 'put', 400);
    expect(documented.length).toBeGreaterThanOrEqual(12);
    for (const json of [{ event_type: ['table.loaded'] }, { event_types: ['ping'] }, { event_types: [] }, { table_names: [] }, { headers: { 'X Api Key': 'v' } }, { headers: { 'Webhook-Id': 'v' } }, { headers: { 'X-New': '***' } }, { rate_limit_per_s: 1.5 }]) {
      const res = await r.call('PUT', `/v1/hooks/${hook.id}/settings`, { token: key, json });
      expect(res.status).toBe(400);
      expect(documented).toContainEqual(res.body);
    }
    const unparsable = await r.call('PUT', `/v1/hooks/${hook.id}/settings`, { token: key, raw: '{' });
    expect(documented).toContainEqual(unparsable.body);
  });
});
