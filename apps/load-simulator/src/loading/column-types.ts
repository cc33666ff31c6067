import { LosslessNumber } from '@posthooks/contracts';

/**
 * The Postgres type a new column gets from the first non-null value seen for it. Every
 * JSON number is `numeric`: a field that starts with `0` and goes on with `1.5` is one
 * column of numbers, and numeric holds both exactly, as it holds a number too long for
 * a double (a `LosslessNumber`, written as its exact digits).
 */
export type ColumnType = 'numeric' | 'boolean' | 'text' | 'jsonb';

export function inferType(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || value instanceof LosslessNumber) return 'numeric';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'text';
  return 'jsonb';
}

/** Whether a value can be stored in a column of that type as it is (null always can). */
export function fits(value: unknown, type: ColumnType): boolean {
  if (value === null || value === undefined) return true;
  switch (type) {
    case 'numeric':
      return (typeof value === 'number' && Number.isFinite(value)) || value instanceof LosslessNumber;
    case 'boolean':
      return typeof value === 'boolean';
    case 'text':
      return typeof value === 'string';
    case 'jsonb':
      return typeof value === 'object' && !(value instanceof LosslessNumber);
  }
}

/** Postgres's names for the types, as information_schema reports them. */
export function columnTypeOf(dataType: string): ColumnType {
  if (dataType === 'numeric' || dataType === 'boolean' || dataType === 'text' || dataType === 'jsonb') return dataType;
  return 'text';
}
