import { parseDuration, parseDurationList } from './env-decorators';

describe('durations', () => {
  it('converts each unit to milliseconds', () => {
    expect(parseDurationList('250ms,5s,5m,2h')).toEqual([250, 5000, 300_000, 7_200_000]);
  });

  it.each(['', '5', '5d', '1.5s', '-5s'])('rejects %p', (text) => {
    expect(() => parseDuration(text)).toThrow('not a duration');
  });
});
