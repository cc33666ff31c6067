import { LosslessNumber } from '@posthooks/contracts';
import { fits, inferType } from './column-types';

describe('column types', () => {
  it.each([
    [42, 'numeric'],
    [4.2, 'numeric'],
    [true, 'boolean'],
    ['x', 'text'],
    [{ a: 1 }, 'jsonb'],
    [[1, 2], 'jsonb'],
    [null, undefined],
    [2 ** 60, 'numeric'],
    [new LosslessNumber('9007199254740993'), 'numeric'],
  ])('%j makes a %s column', (value, type) => expect(inferType(value)).toBe(type));

  it('says what fits', () => {
    expect(fits(1, 'numeric')).toBe(true);
    expect(fits(1.5, 'numeric')).toBe(true);
    expect(fits('1', 'numeric')).toBe(false);
    expect(fits('yes', 'boolean')).toBe(false);
    expect(fits(3, 'text')).toBe(false);
    expect(fits([1], 'jsonb')).toBe(true);
    expect(fits(null, 'numeric')).toBe(true);
    expect(fits(new LosslessNumber('9007199254740993'), 'numeric')).toBe(true);
    expect(fits(new LosslessNumber('9007199254740993'), 'jsonb')).toBe(false);
    expect(fits(new LosslessNumber('9007199254740993'), 'text')).toBe(false);
  });
});
