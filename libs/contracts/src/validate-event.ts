import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EventClasses, EventOf } from './event-classes';
import { Subject } from './subjects';

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
  const cls: new () => object = EventClasses[subject];
  const event = plainToInstance(cls, plain) as EventOf<S>;
  const errors = validateSync(event, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) return { ok: false, reason: `invalid ${subject}: ${describe(errors)}` };
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
