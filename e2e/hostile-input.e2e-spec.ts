import { ErrorBodies } from '@posthooks/contracts';
import { HttpsReceiver, TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { IncomingHttpHeaders, request } from 'node:http';
import { DestinationDatabases } from './support/destination-databases';
import { SERVICE_NAMES, ServiceName, ServiceProcess } from './support/service-process';
import { Stack } from './support/stack';

/**
 * Hostile input against every HTTP endpoint of the four API services (issue 8): wrong
 * types, missing and extra fields, huge and deeply nested bodies, invalid UTF-8, wrong
 * content types, path tricks in ids, SQL metacharacters, bad tokens and every spelling
 * of a private hook target. Each case is a 4xx with the contract's error body (SPEC §2,
 * §3, §5, §7), never a 5xx; afterwards every service is still ready and no secret is in
 * a log.
 *
 * The cases are tables. A path names the objects it needs with placeholders (`{hook}`,
 * `{account}` ...), filled with ids created in beforeAll, so test names stay readable.
 * Requests go through node:http, not fetch, so paths, bytes and headers are sent as
 * written (fetch would resolve `..` and re-encode).
 */

// ---------------------------------------------------------------- what is sent

type Auth = 'admin' | 'key' | 'none';
type ErrorShape = 'simple' | 'stitchPost' | 'stitchPut';

interface Endpoint {
  service: ServiceName;
  method: string;
  /** With placeholders, see `fill`. */
  path: string;
  auth: Auth;
  /** A body the endpoint accepts (placeholders in string values are filled too). */
  valid?: Record<string, unknown>;
  /** Field types of `valid`, for the wrong-type cases. */
  fields?: Record<string, 'string' | 'int' | 'count' | 'bool' | 'object' | 'array' | 'date'>;
  /** Which error body the contract gives for a bad body. */
  errors: ErrorShape;
}

const HOOKS = '/notifications/public/v1/api/hooks';
const GOOD_URL = 'https://example.com/hook';

const ENDPOINTS: Record<string, Endpoint> = {
  // hook-registry: admin
  'POST /v1/accounts': {
    service: 'hook-registry', method: 'POST', path: '/v1/accounts', auth: 'admin', errors: 'simple',
    valid: { name: 'acme', plan: 'advanced', notification_email: 'data@acme.test' },
    fields: { name: 'string', plan: 'string', notification_email: 'string' },
  },
  'GET /v1/accounts/{id}': { service: 'hook-registry', method: 'GET', path: '/v1/accounts/{account}', auth: 'admin', errors: 'simple' },
  'PUT /v1/accounts/{id}/plan': { service: 'hook-registry', method: 'PUT', path: '/v1/accounts/{account}/plan', auth: 'admin', errors: 'simple', valid: { plan: 'advanced' }, fields: { plan: 'string' } },
  'POST /v1/accounts/{id}/api-keys': { service: 'hook-registry', method: 'POST', path: '/v1/accounts/{account}/api-keys', auth: 'admin', errors: 'simple', valid: { label: 'alice' }, fields: { label: 'string' } },
  'DELETE /v1/accounts/{id}/api-keys/{key_id}': { service: 'hook-registry', method: 'DELETE', path: '/v1/accounts/{account}/api-keys/{apiKey}', auth: 'admin', errors: 'simple' },
  'PUT /v1/accounts/{id}/notifications': {
    service: 'hook-registry', method: 'PUT', path: '/v1/accounts/{account}/notifications', auth: 'key', errors: 'simple',
    valid: { undeliverable_email: true }, fields: { undeliverable_email: 'bool' },
  },
  // hook-registry: account key
  'POST /v1/destinations': { service: 'hook-registry', method: 'POST', path: '/v1/destinations', auth: 'key', errors: 'simple', valid: { name: 'warehouse', type: 'postgres' }, fields: { name: 'string', type: 'string' } },
  'GET /v1/destinations': { service: 'hook-registry', method: 'GET', path: '/v1/destinations', auth: 'key', errors: 'simple' },
  'DELETE /v1/destinations/{id}': { service: 'hook-registry', method: 'DELETE', path: '/v1/destinations/{spareDestination}', auth: 'key', errors: 'simple' },
  [`POST ${HOOKS}`]: {
    service: 'hook-registry', method: 'POST', path: HOOKS, auth: 'key', errors: 'stitchPost',
    valid: { type: 'post_load', destination_id: '{destination}', config: { url: GOOD_URL } },
    fields: { type: 'string', destination_id: 'int', config: 'object' },
  },
  [`GET ${HOOKS}`]: { service: 'hook-registry', method: 'GET', path: HOOKS, auth: 'key', errors: 'simple' },
  [`PUT ${HOOKS}/{id}`]: { service: 'hook-registry', method: 'PUT', path: `${HOOKS}/{hook}`, auth: 'key', errors: 'stitchPut', valid: { enable: true }, fields: { enable: 'bool' } },
  [`DELETE ${HOOKS}/{id}`]: { service: 'hook-registry', method: 'DELETE', path: `${HOOKS}/{spareHook}`, auth: 'key', errors: 'simple' },
  'POST /v1/hooks/{id}/rotate-secret': { service: 'hook-registry', method: 'POST', path: '/v1/hooks/{hook}/rotate-secret', auth: 'key', errors: 'simple' },
  'POST /v1/hooks/{id}/test': { service: 'hook-registry', method: 'POST', path: '/v1/hooks/{hook}/test', auth: 'key', errors: 'simple' },
  // ingest-gateway
  'POST /v1/integrations': {
    service: 'ingest-gateway', method: 'POST', path: '/v1/integrations', auth: 'key', errors: 'simple',
    valid: { name: 'shopify', destination_id: '{destination}', primary_key: 'id' }, fields: { name: 'string', destination_id: 'int', primary_key: 'string' },
  },
  'GET /v1/integrations': { service: 'ingest-gateway', method: 'GET', path: '/v1/integrations', auth: 'key', errors: 'simple' },
  'POST /v1/integrations/{id}/urls': { service: 'ingest-gateway', method: 'POST', path: '/v1/integrations/{integration}/urls', auth: 'key', errors: 'simple' },
  'DELETE /v1/integrations/{id}/urls/{url_id}': { service: 'ingest-gateway', method: 'DELETE', path: '/v1/integrations/{integration}/urls/{spareUrl}', auth: 'key', errors: 'simple' },
  // load-simulator
  'POST /v1/simulations': {
    service: 'load-simulator', method: 'POST', path: '/v1/simulations', auth: 'key', errors: 'simple',
    valid: { client_id: '{account}', integration_name: 'shopify', tables: ['orders'], outcome: 'loaded', num_rows: 1 },
    fields: { client_id: 'int', integration_name: 'string', tables: 'array', outcome: 'string', num_rows: 'count' },
  },
  'POST /v1/schedules': {
    service: 'load-simulator', method: 'POST', path: '/v1/schedules', auth: 'key', errors: 'simple',
    valid: { client_id: '{account}', integration_name: 'shopify', tables: ['orders'], outcome: 'loaded', every: '8760h' },
    fields: { client_id: 'int', integration_name: 'string', tables: 'array', outcome: 'string', every: 'string' },
  },
  'GET /v1/schedules': { service: 'load-simulator', method: 'GET', path: '/v1/schedules', auth: 'key', errors: 'simple' },
  'DELETE /v1/schedules/{id}': { service: 'load-simulator', method: 'DELETE', path: '/v1/schedules/{spareSchedule}', auth: 'key', errors: 'simple' },
  // dispatcher
  'GET /v1/hooks/{id}/deliveries': { service: 'dispatcher', method: 'GET', path: '/v1/hooks/{hook}/deliveries', auth: 'key', errors: 'simple' },
  'POST /v1/deliveries/{webhook_id}/redeliver': { service: 'dispatcher', method: 'POST', path: '/v1/deliveries/{webhookId}/redeliver', auth: 'key', errors: 'simple' },
  'POST /v1/hooks/{id}/recover': { service: 'dispatcher', method: 'POST', path: '/v1/hooks/{hook}/recover', auth: 'key', errors: 'simple', valid: { since: '2020-01-01T00:00:00Z' }, fields: { since: 'date' } },
};
const INCOMING = '/v1/incoming/{token}';

/** Ids and keys created in beforeAll, by placeholder name. */
const ids: Record<string, string> = {};
/** Every secret the suite saw: none may appear in a log. */
const secrets: string[] = [TEST_ADMIN_TOKEN];

function fill(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in ids)) throw new Error(`no id for {${name}}`);
    return ids[name];
  });
}

/** `valid` with its placeholders filled (a whole-string placeholder of an int field becomes a number). */
function fillBody(value: unknown): unknown {
  if (typeof value === 'string' && /^\{\w+\}$/.test(value)) return Number(fill(value));
  if (Array.isArray(value)) return value.map(fillBody);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillBody(v)]));
  return value;
}

interface Sent {
  authorization?: string;
  contentType?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Sent with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

let stack: Stack;

function tokenFor(auth: Auth): string | undefined {
  return auth === 'admin' ? TEST_ADMIN_TOKEN : auth === 'key' ? ids.key : undefined;
}

let requestsSent = 0;

/**
 * One request as written: the path is not normalized, the body bytes are not re-encoded.
 * Each comes from an address of its own (X-Forwarded-For, read with TRUST_PROXY): this
 * suite sends hundreds of bad tokens to see each answered as one, not the limit of 20
 * failed authentications per address (tested in the services' failed-auth specs).
 */
function send(service: ServiceName | ServiceProcess, method: string, path: string, sent: Sent = {}): Promise<Answer> {
  const target = typeof service === 'string' ? stack.get(service) : service;
  requestsSent++;
  const headers: Record<string, string | number> = { 'x-forwarded-for': `10.${(requestsSent >> 16) & 255}.${(requestsSent >> 8) & 255}.${requestsSent & 255}`, ...sent.headers };
  if (sent.authorization !== undefined) headers.authorization = sent.authorization;
  if (sent.contentType !== undefined) headers['content-type'] = sent.contentType;
  const body = typeof sent.body === 'string' ? Buffer.from(sent.body, 'utf8') : sent.body;
  if (body && !sent.chunked) headers['content-length'] = body.length;
  if (body && sent.chunked) headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ host: '127.0.0.1', port: target.port, method, path, headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // A server may answer (413) and close before it has read a large body: that is fine.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    if (body && sent.chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

function json(value: unknown): Sent {
  return { contentType: 'application/json', body: JSON.stringify(value) };
}

// ---------------------------------------------------------------- what comes back

const STITCH_BODY: Record<ErrorShape, unknown> = {
  simple: undefined,
  stitchPost: ErrorBodies.invalidPostBody,
  stitchPut: ErrorBodies.invalidPutBody,
};

interface Expect {
  /** Allowed statuses; all 4xx. */
  status: number | number[];
  /** The exact body, `simple` for `{"error":"<a non-empty string>"}`, or `contract` for any contract body. */
  body: unknown;
}

const simple = 'simple';
/** Any body of the contract: one of ErrorBodies or `{"error":"..."}`. */
const contract = 'contract';
const notFound: Expect = { status: 404, body: ErrorBodies.notFound };
const unauthorized: Expect = { status: 401, body: ErrorBodies.unauthorized };

/** The error body a bad body gets on this endpoint. */
function badBody(e: Endpoint, status: number | number[] = 400): Expect {
  return { status, body: STITCH_BODY[e.errors] ?? simple };
}

function assertAnswer(res: Answer, expected: Expect): void {
  const statuses = Array.isArray(expected.status) ? expected.status : [expected.status];
  if (!statuses.includes(res.status)) throw new Error(`expected status ${statuses.join(' or ')}, got ${res.status} ${res.headers['content-type']}: ${res.text.slice(0, 500)}`);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(res.text);
  if (expected.body === contract) {
    // One of the contract's fixed bodies, or `{"error":"..."}`.
    const fixed = Object.values(ErrorBodies).some((b) => JSON.stringify(b) === JSON.stringify(body));
    if (!fixed) expect(body).toEqual({ error: expect.any(String) });
  } else if (expected.body === simple) {
    expect(body).toEqual({ error: expect.any(String) });
    expect((body as { error: string }).error.length).toBeGreaterThan(0);
  } else {
    expect(body).toEqual(expected.body);
  }
}

// ---------------------------------------------------------------- the cases

interface Case {
  name: string;
  service: ServiceName;
  method: string;
  path: string;
  sent: () => Sent;
  expected: Expect;
}

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);
const endpointName = (name: string) => name.replace(/\{(\w+)\}/g, ':$1');

// 1. Tokens: every endpoint that takes one.
const BAD_AUTH: [string, (e: Endpoint) => string | undefined][] = [
  ['no Authorization header', () => undefined],
  ['an unknown bearer token', () => 'Bearer phk_0000000000000000000000000000000000000000'],
  ['a SQL-injection bearer token', () => "Bearer ' OR 1=1 --"],
  ['a 10 KB bearer token', () => `Bearer ${'a'.repeat(10_000)}`],
  ['an empty bearer token', () => 'Bearer '],
  ['Basic instead of Bearer', () => `Basic ${Buffer.from('admin:admin').toString('base64')}`],
  ['the right token without "Bearer"', (e) => tokenFor(e.auth)],
  ['the right token with a NUL-like suffix', (e) => `Bearer ${tokenFor(e.auth)}%00`],
];
for (const [name, e] of Object.entries(ENDPOINTS)) {
  for (const [what, authorization] of BAD_AUTH) {
    add({ name: `${endpointName(name)} with ${what}`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: authorization(e), ...(e.valid ? json(fillBody(e.valid)) : {}) }), expected: unauthorized });
  }
  if (e.auth === 'admin') {
    add({ name: `${endpointName(name)} with an account key instead of the admin token`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: `Bearer ${ids.key}`, ...(e.valid ? json(fillBody(e.valid)) : {}) }), expected: unauthorized });
  }
  if (e.auth === 'key' && e.service !== 'load-simulator' && !name.includes('notifications')) {
    add({ name: `${endpointName(name)} with the admin token instead of an account key`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(e.valid ? json(fillBody(e.valid)) : {}) }), expected: unauthorized });
  }
}

// 2. Ids in paths: anything but an id of the caller's own object is a 404 `{"error":"NotFound"}`.
const BAD_IDS: [string, string][] = [
  ['path traversal ..%2F..%2Fetc%2Fpasswd', '..%2F..%2Fetc%2Fpasswd'],
  ['encoded dots %2e%2e%2f', '%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
  ['a bare ..', '..'],
  ['a NUL byte %00', '%00'],
  ['an id followed by %00', '1%00'],
  ['a malformed escape %E0%A4%A', '%E0%A4%A'],
  ['a lone %', '%'],
  ['a non-numeric id', 'abc'],
  ['a negative id', '-1'],
  ['zero', '0'],
  ['a decimal id', '1.5'],
  ['an exponent 1e3', '1e3'],
  ['a hex id 0x1', '0x1'],
  ['leading zeros', '0001'],
  ['2^31 (past Postgres integer)', '2147483648'],
  ['a 30-digit id', '9'.repeat(30)],
  ['a 10,000-digit id', '9'.repeat(10_000)],
  ["SQL ' OR 1=1 --", "1'%20OR%201%3D1%20--"],
  ["SQL 1;DROP TABLE", '1%3BDROP%20TABLE%20accounts'],
  ['a full-width digit', '%EF%BC%91'],
  ['an id with spaces', '%201%20'],
  ["another account's object", '{other}'],
];
const ID_PLACEHOLDER = /\{(account|apiKey|spareDestination|hook|spareHook|integration|spareUrl|spareSchedule|webhookId)\}/g;
for (const [name, e] of Object.entries(ENDPOINTS)) {
  const placeholders = [...e.path.matchAll(ID_PLACEHOLDER)].map((m) => m[1]);
  for (const placeholder of placeholders) {
    for (const [what, raw] of BAD_IDS) {
      // Admin routes have no "other account": the admin sees every account.
      if (raw === '{other}' && e.auth === 'admin') continue;
      add({
        name: `${endpointName(name)} with {${placeholder}} = ${what}`,
        service: e.service,
        method: e.method,
        path: e.path.replace(`{${placeholder}}`, raw === '{other}' ? `{other_${placeholder}}` : raw.replace(/[{}]/g, '')),
        sent: () => ({ authorization: `Bearer ${tokenFor(e.auth)}`, ...(e.valid ? json(fillBody(e.valid)) : {}) }),
        // Express refuses an escape it cannot decode before any route runs: a 400 in the contract's shape is as good as the 404.
        expected: raw === '%E0%A4%A' || raw === '%' ? { status: [400, 404], body: contract } : notFound,
      });
    }
  }
}

// 3. Bodies: every endpoint that reads one (and the body-less POSTs, whose body is parsed before anything).
const DEEP = 10_000;
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const MB = 1024 * 1024;

type BodyCase = [string, (e: Endpoint) => Sent, (e: Endpoint) => Expect];
const withValid = (e: Endpoint, patch: Record<string, unknown>) => ({ ...(fillBody(e.valid) as Record<string, unknown>), ...patch });
/** The valid body's JSON with one field's value replaced by raw JSON text. */
const withRawField = (e: Endpoint, field: string, rawJson: string) => JSON.stringify(withValid(e, { [field]: '__RAW__' })).replace('"__RAW__"', rawJson);
const firstString = (e: Endpoint) => Object.entries(e.fields ?? {}).find(([, t]) => t === 'string')?.[0] ?? Object.keys(e.fields ?? { x: 1 })[0];

const BODY_CASES: BodyCase[] = [
  ['a JSON array body', () => json([]), badBody],
  ['a JSON string body', () => json('hello'), badBody],
  ['a JSON number body', () => json(42), badBody],
  ['a JSON null body', () => ({ contentType: 'application/json', body: 'null' }), badBody],
  ['a JSON true body', () => json(true), badBody],
  ['an empty object (every field missing)', () => json({}), badBody],
  ['an empty body with a JSON content type', () => ({ contentType: 'application/json', body: '' }), badBody],
  ['truncated JSON', () => ({ contentType: 'application/json', body: '{"name":' }), badBody],
  ['JSON with a trailing comma', (e) => ({ contentType: 'application/json', body: JSON.stringify(fillBody(e.valid)).replace(/}$/, ',}') }), badBody],
  ['an extra field', (e) => json(withValid(e, { extra: 1 })), badBody],
  ['a __proto__ field', (e) => ({ contentType: 'application/json', body: JSON.stringify(fillBody(e.valid)).replace(/}$/, ',"__proto__":{"admin":true}}') }), badBody],
  ['a constructor.prototype field', (e) => json(withValid(e, { constructor: { prototype: { admin: true } } })), badBody],
  [`the whole body nested ${DEEP} levels deep (arrays)`, () => ({ contentType: 'application/json', body: deepArray(DEEP) }), badBody],
  [`the whole body nested ${DEEP} levels deep (objects)`, () => ({ contentType: 'application/json', body: deepObject(DEEP) }), badBody],
  [`an extra field nested ${DEEP} levels deep`, (e) => ({ contentType: 'application/json', body: withRawField(e, 'extra', deepObject(DEEP)) }), badBody],
  [`a known field nested ${DEEP} levels deep`, (e) => ({ contentType: 'application/json', body: withRawField(e, firstString(e), deepArray(DEEP)) }), badBody],
  ['a 1 MB string (over the body limit)', (e) => json(withValid(e, { [firstString(e)]: 'x'.repeat(MB) })), () => ({ status: 413, body: simple })],
  ['a 1 MB body sent chunked', (e) => ({ ...json(withValid(e, { [firstString(e)]: 'x'.repeat(MB) })), chunked: true }), () => ({ status: 413, body: simple })],
  ['a 900 KB string (under the body limit)', (e) => json(withValid(e, { [firstString(e)]: 'x'.repeat(900 * 1024) })), badBody],
  [
    'invalid UTF-8 bytes in a string',
    (e) => {
      const [before, after] = JSON.stringify(withValid(e, { [firstString(e)]: '__BYTES__' })).split('__BYTES__');
      return { contentType: 'application/json', body: Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from(after)]) };
    },
    badBody,
  ],
  ['a NUL character (\\u0000) in a string', (e) => json(withValid(e, { [firstString(e)]: 'a\u0000b' })), badBody],
  ['a lone surrogate (\\ud800) in a string', (e) => ({ contentType: 'application/json', body: withRawField(e, firstString(e), '"a\\ud800b"') }), badBody],
  ['a text/plain content type', (e) => ({ contentType: 'text/plain', body: JSON.stringify(fillBody(e.valid ?? {})) }), (e) => badBody(e, [400, 415])],
  ['a form content type', () => ({ contentType: 'application/x-www-form-urlencoded', body: 'name=acme&plan=advanced' }), (e) => badBody(e, [400, 415])],
  ['a multipart content type', () => ({ contentType: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n' }), (e) => badBody(e, [400, 415])],
  ['no content type', (e) => ({ body: JSON.stringify(fillBody(e.valid ?? {})) }), (e) => badBody(e, [400, 415])],
  ['a JSON content type with an unknown charset', (e) => ({ contentType: 'application/json; charset=klingon', body: JSON.stringify(fillBody(e.valid ?? {})) }), (e) => badBody(e, [400, 415])],
  ['Content-Encoding gzip on a body that is not gzip', (e) => ({ ...json(fillBody(e.valid ?? {})), headers: { 'content-encoding': 'gzip' } }), (e) => badBody(e, [400, 415])],
  ['Content-Encoding br (unsupported)', (e) => ({ ...json(fillBody(e.valid ?? {})), headers: { 'content-encoding': 'br' } }), (e) => badBody(e, [400, 415])],
];
/** Bad bodies only a parser sees: endpoints without a body still parse one. */
const PARSE_ONLY = ['truncated JSON', 'a 1 MB string (over the body limit)', 'a 1 MB body sent chunked', 'invalid UTF-8 bytes in a string', 'Content-Encoding gzip on a body that is not gzip'];

for (const [name, e] of Object.entries(ENDPOINTS)) {
  if (e.method === 'GET' || e.method === 'DELETE') continue;
  for (const [what, sent, expected] of BODY_CASES) {
    if (!e.valid && !PARSE_ONLY.includes(what)) continue;
    add({ name: `${endpointName(name)} with ${what}`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: `Bearer ${tokenFor(e.auth)}`, ...sent(e) }), expected: expected(e) });
  }
}

// 4. Wrong types, one field at a time.
const OPTIONAL = ['primary_key', 'num_rows'];
const WRONG_TYPES: Record<string, [string, unknown][]> = {
  count: [['a numeric string', '1'], ['a decimal', 1.5], ['a negative number', -1], ['1e300', 1e300], ['true', true], ['an array', [1]]],
  string: [['a number', 12345], ['true', true], ['null', null], ['an array', ['x']], ['an object', { x: 1 }], ['an empty string', '']],
  int: [['a numeric string', '1'], ['a decimal', 1.5], ['a negative number', -1], ['zero', 0], ['2^31', 2147483648], ['1e300', 1e300], ['null', null], ['true', true], ['an array', [1]], ['an object', { id: 1 }]],
  bool: [['the string "true"', 'true'], ['1', 1], ['null', null], ['an array', [true]], ['an object', { v: true }]],
  object: [['a string', GOOD_URL], ['null', null], ['an array', [GOOD_URL]], ['an empty object', {}], ['an object with an extra key', { url: GOOD_URL, extra: 1 }], ['an object whose url is a number', { url: 1 }]],
  array: [['a string', 'orders'], ['an empty array', []], ['an array of numbers', [1, 2]], ['an array of 101 tables', Array.from({ length: 101 }, (_, i) => `t${i}`)], ['null', null], ['an array with an empty string', ['']]],
  date: [['a number', 1700000000], ['not a date', 'yesterday'], ['February 30th', '2021-02-30T00:00:00Z'], ['an ISO week date', '2021-W01'], ['hour 25', '2021-01-01T25:00:00Z'], ['null', null]],
};
for (const [name, e] of Object.entries(ENDPOINTS)) {
  for (const [field, type] of Object.entries(e.fields ?? {})) {
    for (const [what, value] of WRONG_TYPES[type]) {
      // An optional field may be null: that is the field absent.
      if (OPTIONAL.includes(field) && value === null) continue;
      // A number where the API takes one is a 404 when no such object is the caller's (SPEC: destination_id not the account's).
      // An integer where the API takes an id may name no object of the caller's: 404 (SPEC: destination_id not the account's).
      const maybeAnId = type === 'int' && typeof value === 'number' && Number.isInteger(value);
      const expected = maybeAnId ? { status: [400, 404], body: contract } : badBody(e);
      add({ name: `${endpointName(name)} with ${field} = ${what}`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: `Bearer ${tokenFor(e.auth)}`, ...json(withValid(e, { [field]: value })) }), expected });
    }
  }
}

// 5. Fields whose values have rules beyond their type.
const RULES: [string, string, Record<string, unknown>, Expect][] = [
  ['POST /v1/accounts', 'an unknown plan', { plan: 'platinum' }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'a plan with SQL', { plan: "advanced' OR 1=1 --" }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'a malformed email', { notification_email: 'not-an-email' }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'a 256-character name', { name: 'n'.repeat(256) }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'trial_ends_at February 30th', { plan: 'free_trial', trial_ends_at: '2021-02-30T00:00:00Z' }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'trial_ends_at an ISO week date', { plan: 'free_trial', trial_ends_at: '2021-W01' }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'trial_ends_at year 0', { plan: 'free_trial', trial_ends_at: '0000-01-01' }, { status: 400, body: simple }],
  ['POST /v1/accounts', 'trial_ends_at a number', { plan: 'free_trial', trial_ends_at: 1700000000 }, { status: 400, body: simple }],
  ['PUT /v1/accounts/{id}/plan', 'an unknown plan', { plan: 'PREMIUM' }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'type mysql', { type: 'mysql' }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a schema (no longer a field)', { schema: 'public; DROP TABLE accounts; --' }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a connection URL with SQL', { connection: { url: "postgres://u:p@db.acme.test/w'; DROP TABLE accounts; --" } }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a connection to loopback', { connection: { url: 'postgres://postgres@127.0.0.1:5432/postgres' } }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a connection to the metadata address', { connection: { url: 'postgres://u:p@169.254.169.254/w' } }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a connection through a Unix socket', { connection: { url: 'postgres://u:p@db.acme.test/w?host=/var/run/postgresql' } }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a 3,000-character connection URL', { connection: { url: `postgres://u:p@db.acme.test/${'w'.repeat(3000)}` } }, { status: 400, body: simple }],
  ['POST /v1/destinations', 'a connection that is a string', { connection: 'postgres://u:p@db.acme.test/w' }, { status: 400, body: simple }],
  [`POST ${HOOKS}`, 'type pre_load', { type: 'pre_load' }, { status: 400, body: ErrorBodies.invalidPostBody }],
  [`POST ${HOOKS}`, "another account's destination", { destination_id: '{other_destination}' }, notFound],
  [`POST ${HOOKS}`, 'destination_id 2^31', { destination_id: 2147483648 }, { status: [400, 404], body: contract }],
  [`POST ${HOOKS}`, 'destination_id 2^53', { destination_id: 2 ** 53 }, { status: [400, 404], body: contract }],
  ['POST /v1/integrations', 'an upper-case name', { name: 'Shopify' }, { status: 400, body: simple }],
  ['POST /v1/integrations', 'a name with SQL', { name: "x'; DROP SCHEMA public; --" }, { status: 400, body: simple }],
  ['POST /v1/integrations', 'a path-traversal name', { name: '../../etc/passwd' }, { status: 400, body: simple }],
  ['POST /v1/integrations', 'a 51-character primary_key', { primary_key: 'k'.repeat(51) }, { status: 400, body: simple }],
  ['POST /v1/integrations', "another account's destination", { destination_id: '{other_destination}' }, notFound],
  ['POST /v1/integrations', 'destination_id 2^31', { destination_id: 2147483648 }, notFound],
  ['POST /v1/simulations', "another account's client_id", { client_id: '{other_account}' }, notFound],
  ['POST /v1/simulations', 'outcome exploded', { outcome: 'exploded' }, { status: 400, body: simple }],
  ['POST /v1/simulations', 'num_rows 1e10', { num_rows: 1e10 }, { status: 400, body: simple }],
  ['POST /v1/simulations', 'a 256-character table', { tables: ['t'.repeat(256)] }, { status: 400, body: simple }],
  ['POST /v1/simulations', 'client_id 2^31', { client_id: 2147483648 }, { status: 400, body: simple }],
  ['POST /v1/simulations', 'destination_id 2^31', { destination_id: 2147483648 }, { status: 400, body: simple }],
  ['POST /v1/schedules', 'every 0s', { every: '0s' }, { status: 400, body: simple }],
  ['POST /v1/schedules', 'every -5m', { every: '-5m' }, { status: 400, body: simple }],
  ['POST /v1/schedules', 'every 999999999h', { every: '999999999h' }, { status: 400, body: simple }],
  ['POST /v1/schedules', 'every 5 parsecs', { every: '5 parsecs' }, { status: 400, body: simple }],
  ['POST /v1/schedules', "another account's client_id", { client_id: '{other_account}' }, notFound],
  ['POST /v1/hooks/{id}/recover', 'since in the future', { since: '2999-01-01T00:00:00Z' }, { status: 400, body: simple }],
  ['POST /v1/hooks/{id}/recover', 'since with SQL', { since: "2020-01-01' OR 1=1 --" }, { status: 400, body: simple }],
];
for (const [name, what, patch, expected] of RULES) {
  const e = ENDPOINTS[name];
  add({ name: `${endpointName(name)} with ${what}`, service: e.service, method: e.method, path: e.path, sent: () => ({ authorization: `Bearer ${tokenFor(e.auth)}`, ...json(withValid(e, fillBody(patch) as Record<string, unknown>)) }), expected });
}

// 6. The delivery log's query string.
const QUERIES: [string, string][] = [
  ['limit=abc', 'limit=abc'],
  ['limit=-1', 'limit=-1'],
  ['limit=0', 'limit=0'],
  ['limit=101', 'limit=101'],
  ['limit=1e309', 'limit=1e309'],
  ['limit=1.5', 'limit=1.5'],
  ['two limits', 'limit=1&limit=2'],
  ['status=unknown', 'status=unknown'],
  ["status with SQL", "status=failed'%20OR%201%3D1%20--"],
  ['two statuses', 'status=failed&status=succeeded'],
  ['status[]=failed', 'status[]=failed'],
  ['cursor=abc', 'cursor=abc'],
  ['cursor=-1', 'cursor=-1'],
  ['cursor past bigint (19 nines)', `cursor=${'9'.repeat(19)}`],
  ['cursor of 100 digits', `cursor=${'9'.repeat(100)}`],
  ["cursor with SQL", "cursor=1'%20OR%201%3D1%20--"],
  ['an unknown parameter', 'foo=bar'],
  ['a malformed escape', 'status=%E0%A4%A'],
  ['__proto__', '__proto__[limit]=1'],
];
for (const [what, query] of QUERIES) {
  const e = ENDPOINTS['GET /v1/hooks/{id}/deliveries'];
  add({ name: `GET /v1/hooks/:id/deliveries with ${what}`, service: e.service, method: 'GET', path: `${e.path}?${query}`, sent: () => ({ authorization: `Bearer ${ids.key}` }), expected: { status: 400, body: simple } });
}

// 7. Every spelling of a private hook target, refused when the hook is created (ALLOW_PRIVATE_TARGETS is off for this registry).
const INVALID_URIS: [string, string][] = [
  ['decimal IPv4 https://2130706433/', 'https://2130706433/'],
  ['octal IPv4 https://0177.0.0.1/', 'https://0177.0.0.1/'],
  ['hex IPv4 https://0x7f000001/', 'https://0x7f000001/'],
  ['mixed hex https://0x7f.0.0.1/', 'https://0x7f.0.0.1/'],
  ['short form https://127.1/', 'https://127.1/'],
  ['short form https://127.0.1/', 'https://127.0.1/'],
  ['loopback https://127.0.0.1/', 'https://127.0.0.1/'],
  ['loopback with a port', 'https://127.0.0.1:8443/x'],
  ['the rest of 127/8', 'https://127.255.255.254/'],
  ['IPv6 loopback https://[::1]/', 'https://[::1]/'],
  ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/'],
  ['IPv6 unspecified https://[::]/', 'https://[::]/'],
  ['IPv4-mapped https://[::ffff:127.0.0.1]/', 'https://[::ffff:127.0.0.1]/'],
  ['IPv4-mapped hex https://[::ffff:7f00:1]/', 'https://[::ffff:7f00:1]/'],
  ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/'],
  ['IPv4-compatible https://[::127.0.0.1]/', 'https://[::127.0.0.1]/'],
  ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/'],
  ['IPv6 link-local', 'https://[fe80::1]/'],
  ['IPv6 link-local with a zone', 'https://[fe80::1%25eth0]/'],
  ['IPv6 unique-local', 'https://[fc00::1]/'],
  ['IPv6 multicast', 'https://[ff02::1]/'],
  ['localhost', 'https://localhost/'],
  ['localhost. (trailing dot)', 'https://localhost./'],
  ['LOCALHOST upper case', 'https://LOCALHOST/'],
  ['a .localhost subdomain', 'https://evil.localhost/'],
  ['full-width digits', 'https://１２７.０.０.１/'],
  ['cloud metadata https://169.254.169.254/', 'https://169.254.169.254/latest/meta-data/'],
  ['private 10.0.0.1', 'https://10.0.0.1/'],
  ['private 172.16.0.1', 'https://172.16.0.1/'],
  ['private 192.168.1.1', 'https://192.168.1.1/'],
  ['CGNAT 100.64.0.1', 'https://100.64.0.1/'],
  ['0.0.0.0', 'https://0.0.0.0/'],
  ['https://0/', 'https://0/'],
  ['multicast 224.0.0.1', 'https://224.0.0.1/'],
  ['broadcast 255.255.255.255', 'https://255.255.255.255/'],
  ['reserved 240.0.0.1', 'https://240.0.0.1/'],
  ['benchmarking 198.18.0.1', 'https://198.18.0.1/'],
  ['http:// scheme', 'http://example.com/hook'],
  ['HTTP:// upper-case http', 'HTTP://example.com/hook'],
  ['userinfo https://user:pass@host/', 'https://user:pass@example.com/hook'],
  ['userinfo hiding a private host', 'https://example.com@127.0.0.1/'],
  ['an empty userinfo', 'https://@example.com/'],
  ['file://', 'file:///etc/passwd'],
  ['javascript:', 'javascript:alert(1)'],
  ['gopher://', 'gopher://127.0.0.1:6379/_INFO'],
  ['ftp://', 'ftp://example.com/'],
  ['scheme-relative //host', '//example.com/hook'],
  ['https:/ with one slash', 'https:/example.com/hook'],
  ['https:\\\\ backslashes', 'https:\\\\example.com\\hook'],
  ['https:/// three slashes', 'https:///example.com/hook'],
  ['a single-label host', 'https://intranet/'],
  ['a newline in the host', 'https://example.com\n.127.0.0.1.nip.io/'],
  ['a tab', 'https://exa\tmple.com/'],
  ['a space', 'https://example.com /'],
  ['a NUL', 'https://example.com\u0000.evil/'],
  ['port 0', 'https://example.com:0/'],
  ['port 99999', 'https://example.com:99999/'],
  ['an empty host', 'https:///'],
  ['a relative path', '/hook'],
  ['an empty string', ''],
  ['2,049 characters', `https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`],
  ['100 KB', `https://example.com/${'a'.repeat(100_000)}`],
  ['a host label with an underscore', 'https://ex_ample.com/'],
  ['a percent-encoded host', 'https://%31%32%37.0.0.1/'],
];
for (const [what, url] of INVALID_URIS) {
  add({
    name: `POST ${HOOKS} refuses the URL: ${what}`,
    service: 'hook-registry',
    method: 'POST',
    path: HOOKS,
    sent: () => ({ authorization: `Bearer ${ids.key}`, ...json({ type: 'post_load', destination_id: Number(ids.destination), config: { url } }) }),
    expected: { status: 400, body: ErrorBodies.invalidUri },
  });
}

// 8. SQL metacharacters in free-text fields are data: stored as written, never an error.
const SQL_TEXT = [`' OR 1=1 --`, `"; DROP TABLE accounts; --`, `\\'; SELECT pg_sleep(10); --`, `$1 $$ $tag$`];

// 9. The incoming-webhook URL (SPEC §7).
const INCOMING_CASES: [string, string, string, () => Sent, Expect][] = [
  ['GET', INCOMING, 'GET instead of POST', () => ({}), { status: 405, body: simple }],
  ['PUT', INCOMING, 'PUT instead of POST', () => json({ a: 1 }), { status: 405, body: simple }],
  ['DELETE', INCOMING, 'DELETE instead of POST', () => ({}), { status: 405, body: simple }],
  ['PATCH', INCOMING, 'PATCH instead of POST', () => json({ a: 1 }), { status: 405, body: simple }],
  ['POST', '/v1/incoming/whk_unknown', 'an unknown token', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', '/v1/incoming/..%2F..%2Fetc%2Fpasswd', 'a path-traversal token', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', '/v1/incoming/%00', 'a NUL token', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', '/v1/incoming/{token}%00', 'the token followed by %00', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', '/v1/incoming/%E0%A4%A', 'a malformed escape as token', () => json({ a: 1 }), { status: [400, 404], body: simple }],
  ['POST', "/v1/incoming/'%20OR%201%3D1%20--", 'a SQL token', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', `/v1/incoming/${'a'.repeat(10_000)}`, 'a 10,000-character token', () => json({ a: 1 }), { status: 404, body: simple }],
  ['POST', INCOMING, 'text/plain', () => ({ contentType: 'text/plain', body: '{"a":1}' }), { status: 415, body: simple }],
  ['POST', INCOMING, 'a form content type', () => ({ contentType: 'application/x-www-form-urlencoded', body: 'a=1' }), { status: 415, body: simple }],
  ['POST', INCOMING, 'no content type', () => ({ body: '{"a":1}' }), { status: 415, body: simple }],
  ['POST', INCOMING, 'a multipart content type', () => ({ contentType: 'multipart/form-data; boundary=x', body: '--x--' }), { status: 415, body: simple }],
  ['POST', INCOMING, 'truncated JSON', () => ({ contentType: 'application/json', body: '{"a":' }), { status: 400, body: simple }],
  ['POST', INCOMING, 'an empty body', () => ({ contentType: 'application/json', body: '' }), { status: 400, body: simple }],
  ['POST', INCOMING, 'a JSON string', () => json('x'), { status: 400, body: simple }],
  ['POST', INCOMING, 'a JSON number', () => json(1), { status: 400, body: simple }],
  ['POST', INCOMING, 'JSON null', () => ({ contentType: 'application/json', body: 'null' }), { status: 400, body: simple }],
  ['POST', INCOMING, 'an array with a scalar', () => json([{ a: 1 }, 2]), { status: 400, body: simple }],
  ['POST', INCOMING, 'an array of arrays', () => json([[{ a: 1 }]]), { status: 400, body: simple }],
  ['POST', INCOMING, 'invalid UTF-8 bytes', () => ({ contentType: 'application/json', body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]) }), { status: 400, body: simple }],
  ['POST', INCOMING, 'a UTF-16 body', () => ({ contentType: 'application/json; charset=utf-16le', body: Buffer.from('{"a":1}', 'utf16le') }), { status: 400, body: simple }],
  ['POST', INCOMING, `arrays nested ${DEEP} levels deep`, () => ({ contentType: 'application/json', body: deepArray(DEEP) }), { status: 400, body: simple }],
  ['POST', INCOMING, '5 MiB declared (over MAX_BODY_BYTES)', () => json({ a: 'x'.repeat(5 * MB) }), { status: 413, body: simple }],
  ['POST', INCOMING, '5 MiB chunked (over MAX_BODY_BYTES)', () => ({ ...json({ a: 'x'.repeat(5 * MB) }), chunked: true }), { status: 413, body: simple }],
];
for (const [method, path, what, sent, expected] of INCOMING_CASES) {
  add({ name: `${method} /v1/incoming/:token with ${what}`, service: 'ingest-gateway', method, path, sent, expected });
}


// ---------------------------------------------------------------- the suite

describe('hostile input on every HTTP endpoint', () => {
  let rx: HttpsReceiver;

  beforeAll(async () => {
    // The SSRF refusals are tested with private targets NOT allowed (Stack allows them for everyone by default).
    // TRUST_PROXY: each request names its own client address (see `send`).
    stack = await Stack.start('e2e_hostile', { 'hook-registry': { ALLOW_PRIVATE_TARGETS: 'false' }, dispatcher: { ALLOW_PRIVATE_TARGETS: 'false' }, 'load-simulator': { LOAD_INTERVAL_MS: '300' } }, { TRUST_PROXY: 'true' });
    rx = await HttpsReceiver.start();
    const a = await stack.account();
    const b = await stack.account();
    secrets.push(a.key, b.key);
    Object.assign(ids, { key: a.key, account: String(a.id), destination: String(a.destinationId), other_account: String(b.id), other_destination: String(b.destinationId) });

    const ok = <T>(res: { status: number; body: T }, what: string): T => {
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const call = <T>(service: ServiceName, method: string, path: string, token: string, body?: unknown) => stack.call<T>(service, method, path, token, body).then((r) => ok(r, `${method} ${path}`));

    const spare = await call<{ id: number }>('hook-registry', 'POST', '/v1/destinations', a.key, { name: 'spare', type: 'postgres' });
    const apiKey = await call<{ id: number; api_key: string }>('hook-registry', 'POST', `/v1/accounts/${a.id}/api-keys`, TEST_ADMIN_TOKEN, { label: 'alice' });
    const otherKey = await call<{ id: number; api_key: string }>('hook-registry', 'POST', `/v1/accounts/${b.id}/api-keys`, TEST_ADMIN_TOKEN, { label: 'bob' });
    secrets.push(apiKey.api_key, otherKey.api_key);
    const hook = await stack.hook(a.key, a.destinationId, GOOD_URL);
    const spareHook = await stack.hook(a.key, a.destinationId, 'https://example.org/spare');
    const otherHook = await stack.hook(b.key, b.destinationId, GOOD_URL);
    secrets.push(hook.secret, spareHook.secret, otherHook.secret);
    await stack.registryApplied('ingest-gateway', 'dispatcher', 'load-simulator');

    const integration = await call<{ id: number; url_id: number; webhook_url: string }>('ingest-gateway', 'POST', '/v1/integrations', a.key, { name: 'shopify', destination_id: a.destinationId });
    const spareUrl = await call<{ id: number; webhook_url: string }>('ingest-gateway', 'POST', `/v1/integrations/${integration.id}/urls`, a.key);
    const otherIntegration = await call<{ id: number; url_id: number; webhook_url: string }>('ingest-gateway', 'POST', '/v1/integrations', b.key, { name: 'shopify', destination_id: b.destinationId });
    const token = new URL(integration.webhook_url).pathname.split('/').pop()!;
    secrets.push(token, new URL(spareUrl.webhook_url).pathname.split('/').pop()!, new URL(otherIntegration.webhook_url).pathname.split('/').pop()!);

    const schedule = { integration_name: 'shopify', tables: ['orders'], outcome: 'loaded', every: '8760h' };
    const spareSchedule = await call<{ id: number }>('load-simulator', 'POST', '/v1/schedules', a.key, { ...schedule, client_id: a.id });
    const otherSchedule = await call<{ id: number }>('load-simulator', 'POST', '/v1/schedules', b.key, { ...schedule, client_id: b.id });

    Object.assign(ids, {
      apiKey: String(apiKey.id),
      other_apiKey: String(otherKey.id),
      spareDestination: String(spare.id),
      other_spareDestination: String(b.destinationId),
      hook: String(hook.id),
      other_hook: String(otherHook.id),
      spareHook: String(spareHook.id),
      other_spareHook: String(otherHook.id),
      integration: String(integration.id),
      other_integration: String(otherIntegration.id),
      spareUrl: String(spareUrl.id),
      other_spareUrl: String(otherIntegration.url_id),
      spareSchedule: String(spareSchedule.id),
      other_spareSchedule: String(otherSchedule.id),
      // Well-formed and unknown: the dispatcher has no such delivery.
      webhookId: 'msg_' + '0'.repeat(32),
      other_webhookId: 'msg_' + 'f'.repeat(32),
      token,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await rx?.close();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await send(c.service, c.method, fill(c.path), c.sent());
    assertAnswer(res, c.expected);
  });

  describe('SQL metacharacters in free-text fields are stored as data', () => {
    it.each(SQL_TEXT)('account name, api-key label and destination name %j', async (text) => {
      const acc = await send('hook-registry', 'POST', '/v1/accounts', { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...json({ name: text, plan: 'standard', notification_email: 'x@acme.test' }) });
      expect([acc.status, JSON.parse(acc.text).name]).toEqual([201, text]);
      const account = JSON.parse(acc.text) as { id: number; api_key: string };
      secrets.push(account.api_key);
      const key = await send('hook-registry', 'POST', `/v1/accounts/${account.id}/api-keys`, { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...json({ label: text }) });
      expect([key.status, JSON.parse(key.text).label]).toEqual([201, text]);
      secrets.push((JSON.parse(key.text) as { api_key: string }).api_key);
      const dest = await send('hook-registry', 'POST', '/v1/destinations', { authorization: `Bearer ${account.api_key}`, ...json({ name: text, type: 'postgres' }) });
      expect([dest.status, JSON.parse(dest.text).name]).toEqual([201, text]);
      const got = await send('hook-registry', 'GET', `/v1/accounts/${account.id}`, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
      expect(JSON.parse(got.text).name).toBe(text);
    });

    it.each(SQL_TEXT)('simulation integration and table names %j', async (text) => {
      const res = await send('load-simulator', 'POST', '/v1/simulations', { authorization: `Bearer ${ids.key}`, ...json({ client_id: Number(ids.account), integration_name: text, tables: [text], outcome: 'loaded' }) });
      expect(res.status).toBe(202);
    });

    // One name per integration: a name is its schema, one per destination (a second `sqlish` is a 409).
    it.each(SQL_TEXT.filter((t) => t.length <= 50))('an integration primary_key %j', async (text) => {
      const name = `sqlish_${SQL_TEXT.indexOf(text)}`;
      const res = await send('ingest-gateway', 'POST', '/v1/integrations', { authorization: `Bearer ${ids.key}`, ...json({ name, destination_id: Number(ids.destination), primary_key: text }) });
      expect([res.status, JSON.parse(res.text).primary_key]).toEqual([201, text]);
      secrets.push(new URL((JSON.parse(res.text) as { webhook_url: string }).webhook_url).pathname.split('/').pop()!);
    });
  });

  describe('a private target behind a DNS name is refused when the dispatcher connects', () => {
    // The registry takes a public-looking name (it does not resolve names: DNS can change
    // after the check). Offline, no such name resolves to a private address here, so a
    // second registry replica with ALLOW_PRIVATE_TARGETS=true registers `localhost`, a name
    // the dispatcher resolves itself, and a literal 127.0.0.1; the dispatcher (private
    // targets NOT allowed) must refuse both at connect time.
    let lenient: ServiceProcess;
    beforeAll(async () => {
      lenient = await (await ServiceProcess.spawn('hook-registry', { ...stack.env, ALLOW_PRIVATE_TARGETS: 'true' })).ready();
    }, 60_000);
    afterAll(async () => {
      await lenient?.stop();
    });

    it.each([
      ['a name that resolves to loopback (localhost)', () => rx.url('/by-name')],
      ['a loopback literal (127.0.0.1)', () => `https://127.0.0.1:${rx.port}/by-ip`],
    ])('%s', async (_what, url) => {
      const acc = await stack.account();
      secrets.push(acc.key);
      const created = await send(lenient, 'POST', HOOKS, { authorization: `Bearer ${acc.key}`, ...json({ type: 'post_load', destination_id: acc.destinationId, config: { url: url() } }) });
      expect(created.status).toBe(200);
      const hook = JSON.parse(created.text) as { id: number; secret: string };
      secrets.push(hook.secret);
      await stack.registryApplied('dispatcher');
      const ping = await send('hook-registry', 'POST', `/v1/hooks/${hook.id}/test`, { authorization: `Bearer ${acc.key}` });
      expect(ping.status).toBe(202);
      const attempt = await waitFor('the refused attempt in the delivery log', async () => {
        const log = await stack.call<{ data: { status: string; error: string | null }[] }>('dispatcher', 'GET', `/v1/hooks/${hook.id}/deliveries`, acc.key);
        return log.body.data.find((d) => d.error !== null);
      });
      expect(attempt.error).toBe('target address not allowed');
      expect(rx.requests).toHaveLength(0);
    });
  });

  describe('records posted to an incoming webhook that are hard to store', () => {
    // Accepted (they are JSON objects), then loaded or written to _sdc_rejected: never a
    // load that fails over and over.
    let pg: DestinationDatabases;
    beforeAll(() => {
      pg = new DestinationDatabases(stack.env.DATABASE_URL);
    });
    afterAll(async () => {
      await pg?.end();
    });

    // Loaded (or rejected into _sdc_rejected), or refused at the door with a 4xx that says
    // why: never a 202 for a record the loader cannot store, never a 500.
    const HARD_RECORDS: { what: string; body: string; refused?: [number, RegExp] }[] = [
      { what: 'a NUL character in a value', body: '{"id":1,"note":"a\\u0000b"}', refused: [400, /NUL character/] },
      { what: `a value nested ${DEEP} levels deep`, body: `{"id":2,"deep":${deepObject(DEEP)}}`, refused: [400, /nested deeper than/] },
      // Over NATS's payload limit: it travels by reference (the INGEST_RECORDS object store) and loads.
      { what: 'a 1 MB string value', body: JSON.stringify({ id: 3, note: 'x'.repeat(MB) }) },
      { what: 'a field name with SQL and quotes', body: JSON.stringify({ id: 4, [`a"; DROP TABLE accounts; --`]: 1 }) },
      { what: 'a field name with a NUL', body: '{"id":5,"a\\u0000b":1}', refused: [400, /NUL character/] },
    ];
    for (const { what, body, refused } of HARD_RECORDS) {
      it(what, async () => {
        const created = await stack.call<{ schema: string; webhook_url: string }>('ingest-gateway', 'POST', '/v1/integrations', ids.key, { name: `hard_${HARD_RECORDS.findIndex((r) => r.what === what)}`, destination_id: Number(ids.destination), primary_key: 'id' });
        expect(created.status).toBe(201);
        const token = new URL(created.body.webhook_url).pathname.split('/').pop()!;
        secrets.push(token);
        const posted = await send('ingest-gateway', 'POST', `/v1/incoming/${token}`, { contentType: 'application/json', body });
        if (refused) {
          expect(posted.status).toBe(refused[0]);
          expect(JSON.parse(posted.text)).toEqual({ error: expect.stringMatching(refused[1]) });
          return;
        }
        expect([posted.status, posted.text]).toEqual([202, '{"accepted":1}']);
        const count = (table: string) => pg.query<{ n: number }>(Number(ids.destination), `SELECT count(*)::int AS n FROM "${created.body.schema}".${table}`).then((r) => r[0].n, () => 0);
        await waitFor('the record loaded or rejected', async () => (await count('data')) + (await count('_sdc_rejected')) === 1, { timeoutMs: 20_000 });
      });
    }
  });

  describe('afterwards', () => {
    it.each(SERVICE_NAMES)('%s is still running and ready', async (name) => {
      const s = stack.get(name);
      const ready = await fetch(`${s.url}/health/ready`);
      expect(ready.status).toBe(200);
    });

    it.each(SERVICE_NAMES)('%s never logged a 5xx or an unexpected error', (name) => {
      const errors = stack.get(name).lines.filter((l) => /"level":"(error|fatal)"/.test(l));
      expect(errors.map((l) => l.slice(0, 400))).toEqual([]);
    });

    it.each(SERVICE_NAMES)('%s logged no token, key or secret', (name) => {
      const output = stack.get(name).output;
      expect(secrets.length).toBeGreaterThan(10);
      for (const secret of secrets) expect({ secret, leaked: output.includes(secret) }).toEqual({ secret, leaked: false });
    });
  });
});
