import { Transform } from 'class-transformer';
import { ValidateBy, ValidationOptions } from 'class-validator';

const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);

/**
 * Reads `true/false/1/0` as a boolean. Implicit conversion alone would turn the string
 * "false" into `true` (`Boolean("false")`), so this reads the raw env string from `obj`
 * instead of the already-converted `value`. Anything else is left as the raw string,
 * so `@IsBoolean()` reports it by name.
 */
export function EnvBoolean(): PropertyDecorator {
  return Transform(({ obj, key, value }: { obj: Record<string, unknown>; key: string; value: unknown }) => {
    const raw = obj[key];
    if (typeof raw !== 'string') return value;
    const normalized = raw.trim().toLowerCase();
    if (TRUE.has(normalized)) return true;
    if (FALSE.has(normalized)) return false;
    return raw;
  });
}

/** Each comma-separated entry is a URL with one of `protocols` (e.g. `['nats:', 'tls:']`). */
export function IsUrlList(protocols: string[], options: { list: boolean }, validationOptions: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isUrlList',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const entries = options.list ? value.split(',').map((s) => s.trim()) : [value];
          return entries.every((entry) => hasProtocol(entry, protocols));
        },
      },
    },
    validationOptions,
  );
}

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `250ms`, `5s`, `5m`, `2h` → milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}" (expected e.g. 250ms, 5s, 5m, 2h)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `5s,5m,30m` → `[5000, 300000, 1800000]`; throws if any entry is not a duration. */
export function parseDurationList(text: string): number[] {
  return text.split(',').map(parseDuration);
}

/** A non-empty comma-separated list of durations, e.g. `5s,5m,30m,2h,5h`. */
export function IsDurationList(validationOptions: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDurationList',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            parseDurationList(value);
            return true;
          } catch {
            return false;
          }
        },
      },
    },
    validationOptions,
  );
}
