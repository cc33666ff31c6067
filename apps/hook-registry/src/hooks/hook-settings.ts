import { HOOK_EVENT_TYPES, HookEventType, HookHeader, HookSettings, MAX_HOOK_HEADERS } from '@posthooks/contracts';

/*
 * The body of `PUT /v1/hooks/{id}/settings` (SPEC §9), decided without Nest or I/O: what a
 * body asks for, why it is refused, and the settings it leaves. The service carries it out
 * under the hook's row lock. Error messages name keys and header names, never a value.
 */

/** A header value that stands for "keep the value stored under this name": what every response shows. */
export const MASKED = '***';

export const SETTINGS_KEYS = ['event_types', 'integration_names', 'table_names', 'headers', 'rate_limit_per_s'] as const;
const BODY_KEYS: readonly string[] = [...SETTINGS_KEYS, 'verify'];

/** At most this many names in a filter, each at most this long. */
export const MAX_FILTER_NAMES = 100;
export const MAX_FILTER_NAME_LENGTH = 255;
/** UTF-8 bytes of one header value (SPEC §9). */
export const MAX_HEADER_VALUE_BYTES = 1024;
const MAX_HEADER_NAME_LENGTH = 255;

/** RFC 7230 `token`: one or more tchar. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Names our own request sets (SPEC §9's list), and names that describe the connection,
 * not the message (RFC 7230 §6.1): the dispatcher's HTTP client (undici) refuses to send
 * `keep-alive`, `upgrade`, `expect` and the like, so a hook carrying one could never be
 * delivered. `authorization` is allowed: it is what custom headers are mostly for.
 */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'connection', 'transfer-encoding', 'keep-alive', 'proxy-connection', 'upgrade', 'expect', 'te', 'trailer']);
const RESERVED_PREFIX = 'webhook-';

/**
 * Visible ASCII, space and tab. Control characters (CR/LF above all: header injection)
 * are refused, and so is anything past ASCII: an HTTP client sends it as Latin-1 bytes or
 * refuses it, never as the UTF-8 the user typed.
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** What a settings body asks for. A key absent leaves that setting as it is. */
export interface SettingsUpdate {
  event_types?: HookEventType[];
  integration_names?: string[] | null;
  table_names?: string[] | null;
  /** Replaces the whole set; a value of `***` keeps the value stored under that name. */
  headers?: { name: string; value: string }[];
  rate_limit_per_s?: number | null;
  /** Not stored: send a ping after saving and report the receiver's answer. */
  verify: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const refuse = (message: string): { ok: false; message: string } => ({ ok: false, message });

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseSettingsBody(body: unknown): Parsed<SettingsUpdate> {
  if (!isPlainObject(body)) return refuse(`the body must be a JSON object with any of: ${BODY_KEYS.join(', ')}`);
  const unknown = Object.keys(body).find((key) => !BODY_KEYS.includes(key));
  if (unknown !== undefined) return refuse(`unknown key ${JSON.stringify(unknown)} (allowed: ${BODY_KEYS.join(', ')})`);

  const update: SettingsUpdate = { verify: false };
  if (Object.hasOwn(body, 'verify')) {
    if (typeof body.verify !== 'boolean') return refuse('verify must be true or false');
    update.verify = body.verify;
  }
  if (Object.hasOwn(body, 'event_types')) {
    const parsed = parseEventTypes(body.event_types);
    if (!parsed.ok) return parsed;
    update.event_types = parsed.value;
  }
  for (const key of ['integration_names', 'table_names'] as const) {
    if (!Object.hasOwn(body, key)) continue;
    const parsed = parseFilter(key, body[key]);
    if (!parsed.ok) return parsed;
    update[key] = parsed.value;
  }
  if (Object.hasOwn(body, 'headers')) {
    const parsed = parseHeaders(body.headers);
    if (!parsed.ok) return parsed;
    update.headers = parsed.value;
  }
  if (Object.hasOwn(body, 'rate_limit_per_s')) {
    const limit = body.rate_limit_per_s;
    if (limit !== null && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)) {
      return refuse('rate_limit_per_s must be an integer from 1 to 1000, or null for no limit');
    }
    update.rate_limit_per_s = limit;
  }
  return { ok: true, value: update };
}

/** Whether the body changes anything stored (a body of `verify` alone does not). */
export function changesSettings(update: SettingsUpdate): boolean {
  return SETTINGS_KEYS.some((key) => update[key] !== undefined);
}

function parseEventTypes(value: unknown): Parsed<HookEventType[]> {
  const allowed = HOOK_EVENT_TYPES.join(', ');
  if (!Array.isArray(value) || value.length === 0) return refuse(`event_types must be a non-empty array of: ${allowed}`);
  const seen = new Set<string>();
  for (const type of value) {
    if (typeof type !== 'string' || !(HOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      return refuse(`event_types: ${JSON.stringify(type)} is not an event type a hook can subscribe to (${allowed})`);
    }
    if (seen.has(type)) return refuse(`event_types: ${JSON.stringify(type)} is listed twice`);
    seen.add(type);
  }
  return { ok: true, value: value as HookEventType[] };
}

/**
 * A filter is null (every integration, or table) or a non-empty list. `[]` is refused
 * rather than read as "none": a hook that matches nothing is better said by disabling it.
 */
function parseFilter(key: string, value: unknown): Parsed<string[] | null> {
  if (value === null) return { ok: true, value: null };
  const shape = `${key} must be null (all) or an array of 1 to ${MAX_FILTER_NAMES} names`;
  if (!Array.isArray(value)) return refuse(shape);
  if (value.length === 0) return refuse(`${key}: [] would match no event; use null for all, or disable the hook`);
  if (value.length > MAX_FILTER_NAMES) return refuse(`${key}: at most ${MAX_FILTER_NAMES} names`);
  const seen = new Set<string>();
  for (const name of value) {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_FILTER_NAME_LENGTH) {
      return refuse(`${key}: each name must be a string of 1 to ${MAX_FILTER_NAME_LENGTH} characters`);
    }
    // A NUL cannot be stored by Postgres; other control characters or a lone surrogate name nothing a pipeline sends.
    if (/[\p{Cc}\p{Surrogate}]/u.test(name)) return refuse(`${key}: ${JSON.stringify(name)} has a control character or is not valid Unicode`);
    if (seen.has(name)) return refuse(`${key}: ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  return { ok: true, value: value as string[] };
}

/** `{"<name>": "<value>"}` as a list, in the body's order, names as written. */
function parseHeaders(value: unknown): Parsed<{ name: string; value: string }[]> {
  if (!isPlainObject(value)) return refuse('headers must be an object of header name to value ({} removes them all)');
  const entries = Object.entries(value);
  if (entries.length > MAX_HOOK_HEADERS) return refuse(`headers: at most ${MAX_HOOK_HEADERS} headers per hook`);
  const seen = new Set<string>();
  const headers: { name: string; value: string }[] = [];
  for (const [name, headerValue] of entries) {
    const nameError = headerNameError(name);
    if (nameError) return refuse(nameError);
    const lower = name.toLowerCase();
    if (seen.has(lower)) return refuse(`headers: ${JSON.stringify(name)} is given twice (header names are case-insensitive)`);
    seen.add(lower);
    // The messages name the header, never its value.
    if (typeof headerValue !== 'string') return refuse(`headers: the value of ${name} must be a string`);
    if (!HEADER_VALUE.test(headerValue)) return refuse(`headers: the value of ${name} has a control character (CR, LF...) or a character outside ASCII`);
    if (Buffer.byteLength(headerValue) > MAX_HEADER_VALUE_BYTES) return refuse(`headers: the value of ${name} is over ${MAX_HEADER_VALUE_BYTES} bytes`);
    headers.push({ name, value: headerValue });
  }
  return { ok: true, value: headers };
}

function headerNameError(name: string): string | undefined {
  // The name is shown as JSON, so an odd character in it is visible and cannot break the message.
  if (name.length > MAX_HEADER_NAME_LENGTH || !HTTP_TOKEN.test(name)) {
    return `headers: ${JSON.stringify(name.slice(0, 64))} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only, at most ${MAX_HEADER_NAME_LENGTH})`;
  }
  const lower = name.toLowerCase();
  if (lower.startsWith(RESERVED_PREFIX) || RESERVED_HEADERS.has(lower)) return `headers: ${name} is set by posthooks itself and cannot be a custom header`;
  return undefined;
}

/**
 * The settings after an update: each key given replaces that setting, headers as a whole
 * set. A header sent as `***` keeps the value stored under the same name (any case), so
 * a form showing the masked settings can be sent back as it is; a new value is sealed.
 */
export function applySettings(current: HookSettings, update: SettingsUpdate, seal: (clear: string) => string): Parsed<HookSettings> {
  const next: HookSettings = { ...current };
  if (update.event_types !== undefined) next.event_types = update.event_types;
  if (update.integration_names !== undefined) next.integration_names = update.integration_names;
  if (update.table_names !== undefined) next.table_names = update.table_names;
  if (update.rate_limit_per_s !== undefined) next.rate_limit_per_s = update.rate_limit_per_s;
  if (update.headers !== undefined) {
    const stored = new Map(current.headers.map((h) => [h.name.toLowerCase(), h.value]));
    const headers: HookHeader[] = [];
    for (const { name, value } of update.headers) {
      if (value !== MASKED) {
        headers.push({ name, value: seal(value) });
        continue;
      }
      const kept = stored.get(name.toLowerCase());
      if (kept === undefined) return refuse(`headers: ${name} is "${MASKED}" (keep the stored value), but the hook has no ${name} header`);
      headers.push({ name, value: kept });
    }
    next.headers = headers;
  }
  return { ok: true, value: next };
}

/** The settings as every response shows them: header values masked, the rest as stored. */
export function settingsView(settings: HookSettings) {
  return {
    event_types: settings.event_types,
    integration_names: settings.integration_names,
    table_names: settings.table_names,
    headers: Object.fromEntries(settings.headers.map((h) => [h.name, MASKED])) as Record<string, typeof MASKED>,
    rate_limit_per_s: settings.rate_limit_per_s,
  };
}
