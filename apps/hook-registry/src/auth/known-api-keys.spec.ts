import { Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import type { NatsConnection } from 'nats';
import { KnownApiKeys } from './known-api-keys';

const issued = { key_id: 1, account_id: 7, label: 'alice', key_hash: 'h1', revoked_at: null };
const revoked = { ...issued, revoked_at: '2026-01-01T00:00:00.000Z' };
const fromStream = (event: typeof issued | typeof revoked) => ({ ...event, changed_by: 'admin', changed_at: '2026-01-01T00:00:00.000Z' });

/** The view the follower fills (private: reached the way followRegistry reaches it). */
const streamView = (keys: KnownApiKeys) => (keys as unknown as { view: RegistryView }).view;

describe('KnownApiKeys', () => {
  const make = () => new KnownApiKeys(undefined as unknown as NatsConnection, new NatsNaming(''));

  it.each<[string, ((keys: KnownApiKeys) => void)[], boolean]>([
    ['Test scenario: an unknown hash is no key', [], false],
    ['Test scenario: a key issued through this replica works at once', [(k) => k.learn(issued)], true],
    ['Test scenario: a key from the stream works', [(k) => streamView(k).apply(Subjects.ApiKeyChanged, fromStream(issued))], true],
    ['Test scenario: a revocation through this replica ends it at once', [(k) => k.learn(issued), (k) => k.learn(revoked)], false],
    ['Test scenario: the issue event arriving from the stream after a local revocation does not revive it', [(k) => k.learn(issued), (k) => k.learn(revoked), (k) => streamView(k).apply(Subjects.ApiKeyChanged, fromStream(issued))], false],
    ['Test scenario: a local issue learnt after the stream brought the revocation does not revive it', [(k) => streamView(k).apply(Subjects.ApiKeyChanged, fromStream(revoked)), (k) => k.learn(issued)], false],
    ['Test scenario: a revocation from another replica, through the stream, ends it', [(k) => k.learn(issued), (k) => streamView(k).apply(Subjects.ApiKeyChanged, fromStream(revoked))], false],
  ])('%s', (_, steps, live) => {
    const keys = make();
    for (const step of steps) step(keys);
    expect(keys.find('h1')).toEqual(live ? { keyId: 1, accountId: 7, label: 'alice' } : undefined);
  });

  it('Test scenario: keeps API keys only, no hooks or secrets', () => {
    const keys = make();
    streamView(keys).apply(Subjects.HookChanged, { hook_id: 1, account_id: 7 } as never);
    expect(streamView(keys).hooks.size).toBe(0);
  });
});
