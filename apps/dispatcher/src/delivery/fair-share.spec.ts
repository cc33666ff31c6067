import { FairShare, Held, shareLimits } from './fair-share';

const held = (account: number, hook: number, host: string, times = 1): Held[] => Array.from({ length: times }, () => ({ account, hook, host }));

describe('FairShare', () => {
  it.each<[string, number, number, number, { perAccount: number }]>([
    ['half of 64', 64, 8, 0.5, { perAccount: 32 }],
    ['all of it', 64, 8, 1, { perAccount: 64 }],
    ['never less than one', 4, 8, 0.1, { perAccount: 1 }],
  ])('Test scenario: an account share of %s', (_, concurrency, perHost, share, expected) => {
    expect(shareLimits(concurrency, perHost, share)).toMatchObject(expected);
  });

  type Case = [string, Held[], ReturnType<FairShare['plan']>];
  it.each<Case>([
    ['nothing held: the whole concurrency, any account up to its share, twice a host limit per hook', [], { limit: 64, perHook: 16, accounts: [], rooms: [], accountRoom: 32, skipHooks: [] }],
    ['a host holding under twice its limit (8 sending, 7 waiting) is still claimed for', held(1, 10, 'a.example', 15), { limit: 49, perHook: 16, accounts: [1], rooms: [17], accountRoom: 32, skipHooks: [] }],
    ['a host holding twice its limit skips its hooks', held(1, 10, 'a.example', 16), { limit: 48, perHook: 16, accounts: [1], rooms: [16], accountRoom: 32, skipHooks: [10] }],
    [
      'a full host skips every hook of it held here, of any account',
      [...held(1, 10, 'a.example', 9), ...held(2, 20, 'a.example', 7), ...held(2, 21, 'b.example', 1)],
      { limit: 47, perHook: 16, accounts: [1, 2], rooms: [23, 24], accountRoom: 32, skipHooks: [10, 20] },
    ],
    [
      'an account at its share skips all its hooks, whatever their hosts',
      [...held(1, 10, 'a.example', 7), ...held(1, 11, 'b.example', 7), ...held(1, 12, 'c.example', 7), ...held(1, 13, 'd.example', 7), ...held(1, 14, 'e.example', 4)],
      { limit: 32, perHook: 16, accounts: [1], rooms: [0], accountRoom: 32, skipHooks: [10, 11, 12, 13, 14] },
    ],
    ['all slots held: no claim', held(1, 10, 'a.example', 64), undefined],
    ['few slots left: no claim takes more', held(1, 10, 'a.example', 62), { limit: 2, perHook: 2, accounts: [1], rooms: [0], accountRoom: 2, skipHooks: [10] }],
  ])('Test scenario: %s', (_, holds, expected) => {
    const share = new FairShare({ concurrency: 64, perHost: 8, perAccount: 32 });
    holds.forEach((h) => share.hold(h));
    expect(share.plan()).toEqual(expected);
  });

  it('Test scenario: releasing what was held gives the room back and forgets the host and account', () => {
    const share = new FairShare({ concurrency: 64, perHost: 8, perAccount: 32 });
    const holdings = held(1, 10, 'a.example', 16).map((h) => share.hold(h));
    holdings.forEach((h) => h.release());
    expect(share.held).toBe(0);
    expect(share.plan()).toEqual({ limit: 64, perHook: 16, accounts: [], rooms: [], accountRoom: 32, skipHooks: [] });
  });

  it('Test scenario: a delivery whose send is over no longer counts for its host, still for its account and the concurrency', () => {
    const share = new FairShare({ concurrency: 64, perHost: 8, perAccount: 32 });
    const holdings = held(1, 10, 'a.example', 16).map((h) => share.hold(h));
    expect(share.plan()?.skipHooks).toEqual([10]);
    holdings.forEach((h) => h.leaveHost());
    holdings.forEach((h) => h.leaveHost()); // twice is once
    expect(share.plan()).toEqual({ limit: 48, perHook: 16, accounts: [1], rooms: [16], accountRoom: 32, skipHooks: [] });
    holdings.forEach((h) => h.release());
    expect(share.held).toBe(0);
  });
});
