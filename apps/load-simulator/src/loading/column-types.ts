/** The Postgres type a new column gets from the first non-null value seen for it. */
export type ColumnType = 'bigint' | 'double precision' | 'boolean' | 'text' | 'jsonb';

export function inferType(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'bigint' : 'double precision';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'text';
  return 'jsonb';
}

/** Whether a value can be stored in a column of that type as it is (null always can). */
export function fits(value: unknown, type: ColumnType): boolean {
  if (value === null || value === undefined) return true;
  switch (type) {
    case 'bigint':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'double precision':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'text':
      return typeof value === 'string';
    case 'jsonb':
      return typeof value === 'object';
  }
}

/** Postgres's names for the types, as information_schema reports them. */
export function columnTypeOf(dataType: string): ColumnType {
  if (dataType === 'bigint' || dataType === 'double precision' || dataType === 'boolean' || dataType === 'text' || dataType === 'jsonb') return dataType;
  return 'text';
}
