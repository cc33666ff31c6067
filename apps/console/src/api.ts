// Every call the console makes, with the shapes of SPEC.md. The registry's own routes are
// called directly; the other services' through the registry's same-origin proxy
// (/console/api/<service>/..., see apps/hook-registry/src/console/proxy-target.ts).

export const HOOK_LIMIT = 10;
export const EVENT_TYPES = ['table.loaded', 'table.rejected', 'load.started'] as const;

export interface Account {
  id: number;
  name: string;
  plan: string;
  trial_ends_at: string | null;
  entitled: boolean;
}
export type Session = { signed_in: false; reason: string } | { signed_in: true; key_label: string; account: Account };

export interface Hook {
  id: number;
  client_id: number;
  type: 'post_load';
  config: { url: string; destination_id: number };
  created_at: string;
  modified_at: string;
  disabled_at: string | null;
  disabled_reason?: string | null;
  settings?: HookSettings;
  verify?: { status_code: number | null; duration_ms: number; error: string | null };
}
export interface HookSettings {
  event_types: string[];
  integration_names: string[] | null;
  table_names: string[] | null;
  headers: Record<string, string>;
  rate_limit_per_s: number | null;
}
export interface Destination {
  id: number;
  name: string;
  type: string;
  connection?: { url: string } | null;
  created_at: string;
}
export interface Attempt {
  event_id: string;
  event_type: string;
  webhook_id: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'pending';
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  attempted_at: string;
  next_attempt_at: string | null;
  // Not in SPEC §5's attempt yet: shown when the dispatcher sends them.
  integration_name?: string;
  table_name?: string;
}
export interface Undelivered {
  webhook_id: string;
  hook_id: number;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string | null;
}
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
export interface Integration {
  id: number;
  name: string;
  destination_id: number;
  primary_key: string | null;
  schema?: string;
  created_at: string;
  urls?: { id: number; created_at: string; revoked_at: string | null }[];
}
/** What an integration has loaded so far (the load-simulator's GET /v1/integration-loads). */
export interface IntegrationLoad {
  integration_id: number;
  rows_loaded: number;
  rows_rejected: number;
  last_loaded_at: string;
}

/** An answer other than 2xx, with the contract's error text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of any of the contract's error bodies. */
function errorText(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; data?: { message?: unknown } };
    if (b.data && typeof b.data.message === 'string') return b.data.message;
    if (typeof b.error === 'string') return b.error;
    if (b.error && typeof b.error === 'object' && typeof (b.error as { message?: unknown }).message === 'string') return (b.error as { message: string }).message;
  }
  return `The server answered ${status}.`;
}

const DISPATCHER = '/console/api/dispatcher';
const GATEWAY = '/console/api/ingest-gateway';
const LOADER = '/console/api/load-simulator';
const HOOKS = '/notifications/public/v1/api/hooks';

/** Paths are relative to the origin: the page is at /console/, the APIs at /. */
async function call<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw new ApiError(res.status, errorText(res.status, parsed));
  return parsed as T;
}

export function signIn(key: string): Promise<Session> {
  return call<Session>(key, 'GET', '/console/api/session');
}

export type Api = ReturnType<typeof createApi>;

export function createApi(key: string) {
  return {
    session: () => signIn(key),
    hooks: async () => (await call<{ post_load: Hook[] }>(key, 'GET', HOOKS)).post_load,
    createHook: (url: string, destinationId: number) => call<Hook & { secret: string }>(key, 'POST', HOOKS, { type: 'post_load', destination_id: destinationId, config: { url } }),
    setEnabled: (id: number, enable: boolean) => call<Hook>(key, 'PUT', `${HOOKS}/${id}`, { enable }),
    deleteHook: (id: number) => call<null>(key, 'DELETE', `${HOOKS}/${id}`),
    rotateSecret: (id: number) => call<{ secret: string }>(key, 'POST', `/v1/hooks/${id}/rotate-secret`),
    sendTest: (id: number) => call<unknown>(key, 'POST', `/v1/hooks/${id}/test`),
    hook: (id: number) => call<Hook>(key, 'GET', `/v1/hooks/${id}`),
    saveSettings: (id: number, settings: Partial<HookSettings> & { verify?: boolean }) => call<Hook>(key, 'PUT', `/v1/hooks/${id}/settings`, settings),

    destinations: () => call<Destination[] | { data: Destination[] }>(key, 'GET', '/v1/destinations').then((r) => (Array.isArray(r) ? r : r.data)),
    createDestination: (body: { name: string; type: 'postgres'; connection?: { url: string } }) => call<Destination>(key, 'POST', '/v1/destinations', body),

    attempts: (hookId: number, cursor?: string) =>
      call<Page<Attempt>>(key, 'GET', `${DISPATCHER}/v1/hooks/${hookId}/deliveries?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    redeliver: (webhookId: string) => call<unknown>(key, 'POST', `${DISPATCHER}/v1/deliveries/${encodeURIComponent(webhookId)}/redeliver`),
    recover: (hookId: number, since: string) => call<{ recovered: number; more: boolean }>(key, 'POST', `${DISPATCHER}/v1/hooks/${hookId}/recover`, { since }),
    undelivered: (status: string) => call<Page<Undelivered>>(key, 'GET', `${DISPATCHER}/v1/deliveries?status=${encodeURIComponent(status)}&limit=100`),

    integrations: () => call<Integration[] | { data: Integration[] }>(key, 'GET', `${GATEWAY}/v1/integrations`).then((r) => (Array.isArray(r) ? r : r.data)),
    createIntegration: (body: { name: string; destination_id: number; primary_key?: string }) => call<Integration & { webhook_url: string }>(key, 'POST', `${GATEWAY}/v1/integrations`, body),
    addUrl: (id: number) => call<{ id: number; webhook_url: string }>(key, 'POST', `${GATEWAY}/v1/integrations/${id}/urls`),
    revokeUrl: (id: number, urlId: number) => call<unknown>(key, 'DELETE', `${GATEWAY}/v1/integrations/${id}/urls/${urlId}`),

    integrationLoads: async () => (await call<{ data: IntegrationLoad[] }>(key, 'GET', `${LOADER}/v1/integration-loads`)).data,
    simulate: (body: { client_id: number; destination_id?: number; integration_name: string; tables: string[]; outcome: 'loaded' | 'rejected'; num_rows?: number }) =>
      call<{ event_ids: string[] }>(key, 'POST', `${LOADER}/v1/simulations`, body),
  };
}
