import { isRecordError, isRecordErrorCode, sqlstateOf } from './record-errors';

describe('isRecordErrorCode', () => {
  it.each([
    ['54000', 'row is too big / index row size exceeds the maximum'],
    ['54011', 'tables can have at most 1600 columns'],
    ['22P02', 'invalid input syntax for type numeric'],
    ['22003', 'value overflows numeric format'],
    ['22P05', 'unsupported Unicode escape sequence (\\u0000)'],
    ['22001', 'value too long for type character varying'],
    ['23505', 'unique violation'],
    ['23502', 'not-null violation'],
    ['21000', 'ON CONFLICT DO UPDATE command cannot affect row a second time'],
    ['42601', 'zero-length delimited identifier (an empty field name)'],
    ['42701', 'column specified more than once'],
    ['42804', 'column is of type integer but expression is of type text'],
  ])('Test scenario: %s (%s) is about a record: bisect the batch', (code, _why) => {
    expect(isRecordErrorCode(code)).toBe(true);
  });

  it.each([
    ['08006', 'connection failure'],
    ['08003', 'connection does not exist'],
    ['57P01', 'admin shutdown (Postgres restarting)'],
    ['57P03', 'cannot connect now (starting up)'],
    ['57014', 'query canceled (statement_timeout)'],
    ['53100', 'disk full'],
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'lock not available (lock_timeout)'],
    ['58030', 'I/O error'],
    ['XX000', 'internal error'],
    ['42939', 'reserved name (a pg_ schema)'],
    ['42P01', 'undefined table'],
    ['3D000', 'invalid catalog name (database gone)'],
    ['25P02', 'in failed transaction'],
    [undefined, 'no SQLSTATE (socket closed, ECONNREFUSED)'],
    ['22', 'not a SQLSTATE'],
  ])('Test scenario: %s (%s) is not about the data: the flush fails and is retried', (code, _why) => {
    expect(isRecordErrorCode(code)).toBe(false);
  });
});

describe('isRecordError', () => {
  it('Test scenario: reads the code of a pg error and of a TypeORM QueryFailedError', () => {
    expect(isRecordError(Object.assign(new Error('row is too big'), { code: '54000' }))).toBe(true);
    expect(isRecordError({ message: 'x', driverError: { code: '22P02' } })).toBe(true);
    expect(isRecordError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isRecordError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(sqlstateOf('oops')).toBeUndefined();
  });
});
