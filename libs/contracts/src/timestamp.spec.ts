import { isIsoTimestamp } from './timestamp';

describe('isIsoTimestamp', () => {
  it.each(['2026-11-24T10:00:00Z', '2026-11-24T10:00:00.123+02:00', '2026-11-24', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z'])('takes %s', (v) => {
    expect(isIsoTimestamp(v)).toBe(true);
  });

  it.each([['February 30th', '2021-02-30T00:00:00Z'], ['an ISO week', '2021-W01'], ['year 0', '0000-01-01'], ['hour 25', '2021-01-01T25:00:00Z'], ['a space separator', '2021-01-01 10:00:00Z'], ['a number', 1700000000], ['prose', 'yesterday'], ['null', null]])(
    'refuses %s',
    (_what, v) => {
      expect(isIsoTimestamp(v)).toBe(false);
    },
  );
});
