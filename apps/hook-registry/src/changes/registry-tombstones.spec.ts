import { Subjects } from '@posthooks/contracts';
import { isExpiredTombstone } from './registry-tombstones';

describe('isExpiredTombstone', () => {
  const now = new Date('2026-06-10T00:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 24 * 60 * 60 * 1000);

  it.each([
    ['Test scenario: a hook deleted 8 days ago', Subjects.HookChanged, { deleted: true }, 8, true],
    ['Test scenario: a hook deleted 6 days ago', Subjects.HookChanged, { deleted: true }, 6, false],
    ['Test scenario: a hook not deleted, 30 days old', Subjects.HookChanged, { deleted: false }, 30, false],
    ['Test scenario: a destination deleted 8 days ago', Subjects.DestinationChanged, { deleted: true }, 8, true],
    ['Test scenario: an API key revoked 8 days ago', Subjects.ApiKeyChanged, { revoked_at: '2026-06-01T00:00:00Z' }, 8, true],
    ['Test scenario: an API key not revoked, 30 days old', Subjects.ApiKeyChanged, { revoked_at: null }, 30, false],
    ['Test scenario: an account, 30 days old (accounts never end)', Subjects.AccountChanged, { deleted: true }, 30, false],
    ['Test scenario: not an object', Subjects.HookChanged, 'deleted', 30, false],
  ] as const)('%s', (_, subject, event, age, expected) => {
    expect(isExpiredTombstone(subject, event, daysAgo(age), now, 7)).toBe(expected);
  });
});
