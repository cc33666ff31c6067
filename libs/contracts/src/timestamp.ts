import { isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A time a client sends: strict ISO 8601 (no February 30th) that is also a real instant
 * Postgres can store. `IsDateString`/`IsISO8601` alone let through `2021-W01` (a week,
 * Invalid Date in JS) and year 0 (out of Postgres' range): both reached the insert or
 * query and answered 500 (hostile-input e2e).
 */
export function isIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !isISO8601(value, { strict: true, strictSeparator: true })) return false;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export function IsIsoTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isIsoTimestamp', validator: { validate: (v: unknown) => isIsoTimestamp(v) } }, options);
}
