/**
 * Whether a failed write was refused because of what it wrote (a record the table cannot
 * hold: retry the batch without it) or because of where it wrote (Postgres down, the
 * connection lost, a lock or statement timeout, a deadlock, a full disk: retry the whole
 * flush later, reject nothing). Decided by SQLSTATE; anything unknown is treated as not
 * about the data, so an outage can never be turned into rejected records.
 */
export function isRecordError(err: unknown): boolean {
  return isRecordErrorCode(sqlstateOf(err));
}

/** Classes where the statement's data was refused (PostgreSQL Appendix A). */
const RECORD_ERROR_CLASSES = new Set([
  '21', // cardinality violation: ON CONFLICT DO UPDATE reaching one row twice
  '22', // data exception: a value that does not fit its column, a NUL, a numeric overflow
  '23', // integrity constraint violation
  '54', // program limit exceeded: row too big (54000), too many columns (54011)
]);

/** Codes of class 42 that a record's field names cause; the rest of the class is about the schema. */
const RECORD_ERROR_CODES = new Set([
  '42601', // syntax error: a zero-length identifier (an empty field name)
  '42622', // name too long
  '42701', // duplicate column
  '42804', // datatype mismatch
]);

export function isRecordErrorCode(sqlstate: string | undefined): boolean {
  if (!sqlstate || !/^[0-9A-Z]{5}$/.test(sqlstate)) return false;
  return RECORD_ERROR_CLASSES.has(sqlstate.slice(0, 2)) || RECORD_ERROR_CODES.has(sqlstate);
}

/** The SQLSTATE of a pg error, or of the one TypeORM's QueryFailedError wraps. */
export function sqlstateOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, driverError } = err as { code?: unknown; driverError?: { code?: unknown } };
  if (typeof code === 'string') return code;
  return typeof driverError?.code === 'string' ? driverError.code : undefined;
}
