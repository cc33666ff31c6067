import { fits, inferType } from './column-types';

describe('column types', () => {
  it.each([
    [42, 'bigint'],
    [4.2, 'double precision'],
    [true, 'boolean'],
    ['x', 'text'],
    [{ a: 1 }, 'jsonb'],
    [[1, 2], 'jsonb'],
    [null, undefined],
    [2 ** 60, 'double precision'],
  ])('%j makes a %s column', (value, type) => expect(inferType(value)).toBe(type));

  it('says what fits', () => {
    expect(fits(1, 'bigint')).toBe(true);
    expect(fits(1.5, 'bigint')).toBe(false);
    expect(fits('1', 'bigint')).toBe(false);
    expect(fits(1, 'double precision')).toBe(true);
    expect(fits('yes', 'boolean')).toBe(false);
    expect(fits(3, 'text')).toBe(false);
    expect(fits([1], 'jsonb')).toBe(true);
    expect(fits(null, 'bigint')).toBe(true);
  });
});
