import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EventClasses, EventOf } from './event-classes';
import { checkRecords } from './events/ingest-records.event';
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
 * Parses and validates a message body against its subject's class. Unknown fields are
 * dropped rather than refused: publishers may be newer than consumers.
 */
export function parseEvent<S extends Subject>(subject: S, body: Uint8Array | string): EventValidation<EventOf<S>> {
  let plain: unknown;
  try {
    plain = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
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
