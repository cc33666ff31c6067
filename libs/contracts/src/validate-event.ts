import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EventClasses, EventOf } from './event-classes';
import { checkRecords } from './events/ingest-records.event';
import { parseJson } from './lossless-json';
import { Subject, Subjects } from './subjects';

/**
 * Fields that carry third-party JSON: checked by their own function and passed through
 * as they are, because plainToInstance would deep-copy them (measured: the copy of a
 * 4 MiB INGEST body dominated the gateway's memory and CPU for large posts).
 */
const OPAQUE_FIELDS: Partial<Record<Subject, Record<string, (value: unknown, event: Record<string, unknown>) => string | undefined>>> = {
  [Subjects.IngestRecords]: { records: checkRecords },
};

export type EventValidation<T> = { ok: true; event: T } | { ok: false; reason: string };

/**
 * The largest message body a consumer parses: NATS's default `max_payload` (1 MiB), which
 * the gateway's INGEST parts are built to fit. Anything larger is refused unread.
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/**
 * The deepest nesting of objects and arrays a message may have (SPEC §4). class-transformer
 * and class-validator recurse into what they are given: a body nested thousands deep blows
 * the stack, so depth is checked before anything recursive sees the payload.
 */
export const MAX_EVENT_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests objects and arrays deeper than `limit`, found by one pass over
 * the bytes without recursion: brackets are counted outside strings. (Bytes of multi-byte
 * UTF-8 characters are all >= 0x80, so they are never taken for a bracket or a quote.)
 * Text that is not JSON may give any answer; JSON.parse refuses it afterwards.
 */
export function nestsDeeperThan(body: Uint8Array | string, limit: number): boolean {
  const at = typeof body === 'string' ? (i: number) => body.charCodeAt(i) : (i: number) => body[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The same question for a value already in memory (what a publisher is given), walked with a stack of its own. */
function valueNestsDeeperThan(root: unknown, limit: number, skip: ReadonlySet<string> = new Set()): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(value) ? value : Object.entries(value).flatMap(([key, child]) => (depth === 0 && skip.has(key) ? [] : [child]));
    for (const child of children) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Parses and validates a message body against its subject's class. Unknown fields are
 * dropped rather than refused: publishers may be newer than consumers. Never throws:
 * size and depth are bounded before JSON.parse and the validators see the payload.
 */
export function parseEvent<S extends Subject>(subject: S, body: Uint8Array | string): EventValidation<EventOf<S>> {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > MAX_EVENT_BYTES) return { ok: false, reason: `too large: ${bytes} bytes, more than ${MAX_EVENT_BYTES}` };
  if (nestsDeeperThan(body, MAX_EVENT_DEPTH)) return { ok: false, reason: `nested deeper than ${MAX_EVENT_DEPTH} levels` };
  let plain: unknown;
  try {
    const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
    // Third-party records keep every digit of their numbers (lossless-json); our own
    // events are parsed as they always were.
    plain = subject === Subjects.IngestRecords ? parseJson(text) : JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  return validateEvent(subject, plain);
}

export function validateEvent<S extends Subject>(subject: S, plain: unknown): EventValidation<EventOf<S>> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const opaque = Object.entries<(value: unknown, event: Record<string, unknown>) => string | undefined>(OPAQUE_FIELDS[subject] ?? {});
  // Opaque fields are checked by their own (non-recursive) functions; the rest goes through class-transformer.
  if (valueNestsDeeperThan(plain, MAX_EVENT_DEPTH, new Set(opaque.map(([field]) => field)))) {
    return { ok: false, reason: `nested deeper than ${MAX_EVENT_DEPTH} levels` };
  }
  const rest: Record<string, unknown> = opaque.length > 0 ? { ...plain } : (plain as Record<string, unknown>);
  for (const [field] of opaque) delete rest[field];
  const cls: new () => object = EventClasses[subject];
  const event = plainToInstance(cls, rest) as EventOf<S>;
  const errors = validateSync(event, { whitelist: true, forbidUnknownValues: true });
  const problems = errors.length > 0 ? [describe(errors)] : [];
  for (const [field, check] of opaque) {
    const value = (plain as Record<string, unknown>)[field];
    const problem = check(value, plain as Record<string, unknown>);
    if (problem) problems.push(problem);
    else (event as unknown as Record<string, unknown>)[field] = value;
  }
  if (problems.length > 0) return { ok: false, reason: `invalid ${subject}: ${problems.join('; ')}` };
  return { ok: true, event };
}

function describe(errors: ValidationError[], parent = ''): string {
  return errors
    .flatMap((e) => {
      const path = parent ? `${parent}.${e.property}` : e.property;
      const own = Object.values(e.constraints ?? {}).map((m) => (m.startsWith(e.property) ? m.replace(e.property, path) : `${path}: ${m}`));
      return [...own, ...(e.children?.length ? [describe(e.children, path)] : [])];
    })
    .join('; ');
}
