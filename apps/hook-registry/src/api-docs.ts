import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import type { ExampleObject, SchemaObject } from '@nestjs/swagger';
import { defaultHookSettings, ErrorBodies, HOOK_EVENT_TYPES, MAX_HOOK_HEADERS, PLANS, simpleError } from '@posthooks/contracts';
import { API_KEY_PREFIX } from '@posthooks/webhooks';
import type { accountView } from './accounts/accounts.service';
import { applySettings, MASKED, MAX_FILTER_NAME_LENGTH, MAX_FILTER_NAMES, MAX_HEADER_VALUE_BYTES, parseSettingsBody } from './hooks/hook-settings';
import type { hookView, hookWithSettingsView } from './hooks/hooks.service';

/*
 * What /docs says about the registry's bodies. Error examples are the contract's own
 * ErrorBodies, so the document cannot drift from what the filter sends; success
 * examples are typed as the views the services return.
 */

const at = '2026-11-24T10:00:00.000Z';
const string: SchemaObject = { type: 'string' };
const integer: SchemaObject = { type: 'integer' };
const dateTime: SchemaObject = { type: 'string', format: 'date-time' };
const object = (properties: Record<string, SchemaObject>, required = Object.keys(properties)): SchemaObject => ({ type: 'object', required, properties });

// Bodies

const hookExample: ReturnType<typeof hookView> = {
  id: 7,
  client_id: 1,
  type: 'post_load',
  version: 1,
  config: { url: 'https://hooks.acme.test/landed', destination_id: 3 },
  created_at: at,
  modified_at: at,
  disabled_at: null,
  disabled_reason: null,
};
const hookSchema = object({
  id: integer,
  client_id: { type: 'integer', description: 'The account id.' },
  type: { type: 'string', enum: ['post_load'] },
  version: { type: 'integer', enum: [1] },
  config: object({ url: string, destination_id: integer }),
  created_at: dateTime,
  modified_at: dateTime,
  disabled_at: { ...dateTime, nullable: true, description: 'null while the hook is enabled.' },
  disabled_reason: { type: 'string', nullable: true, enum: ['manual', 'plan_downgrade', 'endpoint_gone', 'failing', null] },
});

const settingsExample: ReturnType<typeof hookWithSettingsView>['settings'] = {
  event_types: ['table.loaded', 'table.rejected', 'load.started'],
  integration_names: ['shopify'],
  table_names: null,
  headers: { 'X-Api-Key': MASKED },
  rate_limit_per_s: 10,
};
const filterSchema = (what: string): SchemaObject => ({
  type: 'array',
  nullable: true,
  minItems: 1,
  maxItems: MAX_FILTER_NAMES,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: MAX_FILTER_NAME_LENGTH },
  description: `Only these ${what}' events; null: all. \`[]\` is refused (it would match nothing).`,
});
const eventTypesSchema: SchemaObject = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', enum: [...HOOK_EVENT_TYPES] },
  description: 'The event types the hook receives. Default: table.loaded and table.rejected (what a Stitch hook gets). A ping (/test, verify) is always sent.',
};
const rateLimitSchema: SchemaObject = { type: 'integer', minimum: 1, maximum: 1000, nullable: true, description: 'At most this many arrivals at the receiver in any 1,000 ms; null: no limit.' };
const settingsSchema = object({
  event_types: eventTypesSchema,
  integration_names: filterSchema('integrations'),
  table_names: filterSchema('tables'),
  headers: {
    type: 'object',
    maxProperties: MAX_HOOK_HEADERS,
    additionalProperties: { type: 'string', enum: [MASKED] },
    description: 'Custom headers sent on every attempt, by name; values are never shown.',
  },
  rate_limit_per_s: rateLimitSchema,
});
const hookWithSettingsSchema: SchemaObject = { ...hookSchema, required: [...(hookSchema.required ?? []), 'settings'], properties: { ...hookSchema.properties, settings: settingsSchema } };
const verifySchema = object({
  status_code: { type: 'integer', nullable: true, description: "The receiver's status; null when it gave none." },
  duration_ms: { type: 'integer', nullable: true },
  error: { type: 'string', nullable: true, description: 'Why the ping failed (network error, timeout, `target address not allowed`, `the dispatcher did not answer`); null on a 2xx.' },
});

const secretSchema: SchemaObject = { type: 'string', pattern: '^whsec_', description: 'The signing secret: shown by this response only.' };
const secretExample = 'whsec_3VH0OfgXX2cNP++xLMrhE8ADh1kB7s7pD6lPIb4SX7A=';

const accountExample: ReturnType<typeof accountView> = {
  id: 1,
  name: 'acme',
  plan: 'advanced',
  notification_email: 'data@acme.test',
  undeliverable_email: true,
  trial_ends_at: null,
  created_at: at,
};
const accountSchema = object({
  id: integer,
  name: string,
  plan: { type: 'string', enum: [...PLANS] },
  notification_email: { type: 'string', format: 'email' },
  undeliverable_email: { type: 'boolean' },
  trial_ends_at: { ...dateTime, nullable: true },
  created_at: dateTime,
});
const apiKeySchema: SchemaObject = { type: 'string', description: 'The key: shown by this response only, stored as a hash.' };
const apiKeyExample = `${API_KEY_PREFIX}YxMjQftyJaEI4YoV-rUgEUWctQz0dWnYFoQ1DRnXL2s`;

const destinationExample = { id: 3, name: 'warehouse', type: 'postgres', connection: { url: 'postgres://loader:***@warehouse.internal:5432/analytics' }, database: 'analytics', created_at: at };
const destinationSchema = object({ id: integer, name: string, type: { type: 'string', enum: ['postgres'] }, connection: { ...object({ url: string }), nullable: true }, database: string, created_at: dateTime });

/** A JSON response with its schema and named examples. */
const json = (status: number, description: string, schema: SchemaObject, examples: Record<string, ExampleObject>) =>
  ApiResponse({ status, description, content: { 'application/json': { schema, examples } } });
const one = (value: unknown): Record<string, ExampleObject> => ({ example: { value } });

export const Ok = {
  account: (status: 200 | 201, description: string) => json(status, description, accountSchema, one(accountExample)),
  createdAccount: () =>
    json(201, 'The account, with its first API key.', { ...accountSchema, properties: { ...accountSchema.properties, api_key: apiKeySchema } }, one({ ...accountExample, api_key: apiKeyExample })),
  issuedKey: () => json(201, 'The new key, labelled.', object({ id: integer, label: string, api_key: apiKeySchema }), one({ id: 2, label: 'alice', api_key: apiKeyExample })),
  revokedKey: () => json(200, 'The revoked key.', object({ id: integer, label: string, revoked_at: dateTime }), one({ id: 2, label: 'alice', revoked_at: at })),
  notifications: () => json(200, 'The settings now in force.', object({ undeliverable_email: { type: 'boolean' } }), one({ undeliverable_email: false })),
  destination: () => json(201, 'The destination.', destinationSchema, one(destinationExample)),
  destinations: () => json(200, "The account's destinations.", { type: 'array', items: destinationSchema }, one([destinationExample])),
  destinationDeleted: () => ApiResponse({ status: 200, description: 'Deleted, with its hooks. Empty body.' }),
  createdHook: () =>
    json(200, 'The hook object; this response alone carries its signing secret.', { ...hookSchema, properties: { ...hookSchema.properties, secret: secretSchema } }, one({ ...hookExample, secret: secretExample })),
  hook: () => json(200, 'The hook object.', hookSchema, one(hookExample)),
  hookWithSettings: () => json(200, 'The hook object with its settings; header values masked.', hookWithSettingsSchema, one({ ...hookExample, settings: settingsExample })),
  hookSettings: () =>
    json(
      200,
      'The hook object with its settings as saved, header values masked (in this response too). With `"verify": true`, also `verify`: the receiver\'s answer to the ping.',
      { ...hookWithSettingsSchema, properties: { ...hookWithSettingsSchema.properties, verify: verifySchema } },
      {
        saved: { summary: 'Saved', value: { ...hookExample, settings: settingsExample } },
        verified: { summary: 'Saved and verified', value: { ...hookExample, settings: settingsExample, verify: { status_code: 200, duration_ms: 84, error: null } } },
        receiverFailed: { summary: 'Saved; the receiver refused the ping', value: { ...hookExample, settings: settingsExample, verify: { status_code: 401, duration_ms: 35, error: 'HTTP 401' } } },
        noDispatcher: { summary: 'Saved; no dispatcher answered in time', value: { ...hookExample, settings: settingsExample, verify: { status_code: null, duration_ms: null, error: 'the dispatcher did not answer' } } },
      },
    ),
  hooks: () => json(200, "All the account's hooks, disabled ones too, without secrets.", object({ post_load: { type: 'array', items: hookSchema } }), one({ post_load: [hookExample] })),
  hookDeleted: () => json(200, 'Deleted. The body is the JSON `null`, as Stitch answers.', { type: 'object', nullable: true }, one(null)),
  secret: () => json(200, 'The new secret; the old one keeps signing alongside it for 24 h.', object({ secret: secretSchema }), one({ secret: secretExample })),
};

// Errors, exactly as ErrorBodies and the validation pipe send them.

const simpleErrorSchema = object({ error: string });
const messageErrorSchema = object({ error: object({ message: string }) });
const invalidBodySchema = object({ data: object({ message: string }), error: { type: 'string', enum: ['InvalidBody'] } });

/** 401 for anyone but the callers a route allows (the guard's `@Allow`). */
export const ApiCaller = (who: 'admin' | 'account' | 'admin-or-account') =>
  applyDecorators(
    ApiBearerAuth(),
    json(
      401,
      {
        admin: 'The bearer token is not ADMIN_TOKEN.',
        account: "The bearer token is not an account's API key.",
        'admin-or-account': "The bearer token is neither ADMIN_TOKEN nor this account's API key.",
      }[who],
      simpleErrorSchema,
      one(ErrorBodies.unauthorized),
    ),
    json(
      429,
      'After 20 failed authentications from this client address within a minute (SPEC §10), until `Retry-After` seconds have passed; a valid token is never refused.',
      simpleErrorSchema,
      one({ error: 'too many failed authentications' }),
    ),
  );

/** 404 for an unknown id, another account's object, or an id that is not a number. */
export const NotFound = (description = "Unknown id, or another account's.") => json(404, description, simpleErrorSchema, one(ErrorBodies.notFound));

/** 400 from the global validation pipe (admin and destination DTOs): `{"error":"<what is wrong>"}`. */
export const Invalid = (...messages: string[]) =>
  json(
    400,
    'The body failed validation: `{"error":"<what is wrong>"}`, constraints joined with "; ".',
    simpleErrorSchema,
    Object.fromEntries(
      [...messages, 'property extra should not exist', 'request body is not valid JSON'].map((m) => [m, { summary: m, value: simpleError(m) }]),
    ),
  );

const example = (summary: string, value: unknown): ExampleObject => ({ summary, value });

/** The Stitch error table (SPEC §3): one 400 with each row as a named example. */
export const StitchErrors = {
  create: () =>
    json(400, 'The Stitch error bodies, exactly.', { oneOf: [invalidBodySchema, messageErrorSchema] }, {
      invalidBody: example('Missing, extra or mistyped field, or unparsable JSON', ErrorBodies.invalidPostBody),
      invalidUri: example('URL not absolute https://, unparsable, with credentials, or over 2,048 characters', ErrorBodies.invalidUri),
      notEntitled: example('The plan does not include post-load hooks', ErrorBodies.notEntitled),
      hookLimit: example('The 11th hook of an account', ErrorBodies.hookLimit),
    }),
  update: () =>
    json(400, 'The Stitch error bodies, exactly.', { oneOf: [invalidBodySchema, messageErrorSchema] }, {
      invalidBody: example("Body other than exactly {\"enable\":<boolean>}, or unparsable JSON", ErrorBodies.invalidPutBody),
      notEntitled: example('Re-enabling without the entitlement', ErrorBodies.notEntitled),
    }),
};

/** The message parseSettingsBody gives a body, for the examples: the API's own words, never drifting. */
const settingsRefusal = (body: unknown) => {
  const parsed = parseSettingsBody(body);
  if (parsed.ok) throw new Error(`api-docs: ${JSON.stringify(body)} is not refused`);
  return { data: { message: parsed.message }, error: 'InvalidBody' };
};

const keepRefusal = () => {
  const applied = applySettings(defaultHookSettings(), { headers: [{ name: 'X-New', value: MASKED }], verify: false }, (clear) => clear);
  if (applied.ok) throw new Error(`api-docs: keeping a header that is not there is not refused`);
  return { data: { message: applied.message }, error: 'InvalidBody' };
};

/** The 400s of `PUT /v1/hooks/{id}/settings` (SPEC §9): the InvalidBody shape with what is wrong. */
export const SettingsErrors = () =>
  json(400, 'The body is refused: `{"data":{"message":"<what is wrong>"},"error":"InvalidBody"}`; nothing is saved.', invalidBodySchema, {
    unknownKey: example('A key that is not a setting', settingsRefusal({ event_type: ['table.loaded'] })),
    unknownEventType: example('An event type a hook cannot subscribe to', settingsRefusal({ event_types: ['ping'] })),
    noEventType: example('Empty event_types', settingsRefusal({ event_types: [] })),
    emptyFilter: example('[] as a filter (null means all)', settingsRefusal({ table_names: [] })),
    tooManyHeaders: example(`More than ${MAX_HOOK_HEADERS} headers`, settingsRefusal({ headers: Object.fromEntries(Array.from({ length: MAX_HOOK_HEADERS + 1 }, (_, i) => [`X-H${i}`, 'v'])) })),
    badHeaderName: example('A header name that is not an HTTP token', settingsRefusal({ headers: { 'X Api Key': 'v' } })),
    reservedHeader: example('A header posthooks sets itself (webhook-*, content-type, host, user-agent...)', settingsRefusal({ headers: { 'Webhook-Id': 'v' } })),
    badHeaderValue: example('A header value with CR, LF or another control character', settingsRefusal({ headers: { 'X-Api-Key': 'a\r\nb' } })),
    longHeaderValue: example(`A header value over ${MAX_HEADER_VALUE_BYTES} bytes`, settingsRefusal({ headers: { 'X-Api-Key': 'k'.repeat(MAX_HEADER_VALUE_BYTES + 1) } })),
    keepMissing: example(`"${MASKED}" for a header the hook does not have`, keepRefusal()),
    badRateLimit: example('rate_limit_per_s not an integer from 1 to 1000, or null', settingsRefusal({ rate_limit_per_s: 1.5 })),
    notJson: example('Unparsable JSON', { data: { message: 'request body is not valid JSON' }, error: 'InvalidBody' }),
  });

/** The settings body (SPEC §9), which hook-settings.ts checks. */
export const SettingsBody = {
  required: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      event_types: eventTypesSchema,
      integration_names: filterSchema('integrations'),
      table_names: filterSchema('tables'),
      headers: {
        type: 'object',
        maxProperties: MAX_HOOK_HEADERS,
        additionalProperties: { type: 'string', maxLength: MAX_HEADER_VALUE_BYTES, pattern: '^[\\t\\x20-\\x7e]*$' },
        description:
          'Replaces the whole set ({} removes them all). Names: HTTP tokens, case-insensitive, not webhook-*, content-type, content-length, host, user-agent, connection, transfer-encoding, ' +
          `keep-alive, proxy-connection, upgrade, expect, te, trailer (authorization is allowed). Values: printable ASCII, at most ${MAX_HEADER_VALUE_BYTES} bytes; ` +
          `"${MASKED}" keeps the value stored under that name.`,
      },
      rate_limit_per_s: rateLimitSchema,
      verify: { type: 'boolean', description: 'Not stored: after saving, send one ping to the hook and add the receiver\'s answer as `verify`.' },
    },
  },
  examples: {
    subscribe: { summary: 'Also receive load.started, for shopify only', value: { event_types: ['table.loaded', 'table.rejected', 'load.started'], integration_names: ['shopify'] } },
    headers: { summary: 'Set a custom header, keep another, and verify', value: { headers: { 'X-Api-Key': 'k_live_...', Authorization: MASKED }, verify: true } },
    throttle: { summary: 'At most 10 webhooks a second', value: { rate_limit_per_s: 10 } },
  },
} satisfies { required: boolean; schema: SchemaObject; examples: Record<string, ExampleObject> };

/** Request bodies of the Stitch API, which its controller checks itself (hook-bodies.ts). */
export const StitchBodies = {
  create: {
    required: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'destination_id', 'config'],
      properties: {
        type: { type: 'string', enum: ['post_load'] },
        destination_id: { type: 'integer', description: "One of the account's destinations." },
        config: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: { url: { type: 'string', format: 'uri', pattern: '^https://', maxLength: 2048, description: 'Absolute https:// URL, without credentials.' } },
        },
      },
    },
    examples: { hook: { value: { type: 'post_load', destination_id: 3, config: { url: 'https://hooks.acme.test/landed' } } } },
  },
  update: {
    required: true,
    schema: { type: 'object', additionalProperties: false, required: ['enable'], properties: { enable: { type: 'boolean' } } },
    examples: { disable: { value: { enable: false } }, enable: { value: { enable: true } } },
  },
} satisfies Record<string, { required: boolean; schema: SchemaObject; examples: Record<string, ExampleObject> }>;
