import { DestinationChangedEvent, HookChangedEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { followRegistry, RegistryView } from '@posthooks/registry-view';
import { streamMessages, TEST_ADMIN_TOKEN, TEST_SECRETS_KEY, waitFor } from '@posthooks/testing';
import { hashApiKey, SecretBox } from '@posthooks/webhooks';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { HOOKS, Registry } from './registry-harness';

/** Every change is an event on REGISTRY, and a view rebuilt from the stream matches the registry. */
describe('registry events', () => {
  let r: Registry;
  let nc: NatsConnection;
  let naming: NatsNaming;
  const logged: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const box = new SecretBox(TEST_SECRETS_KEY);

  beforeAll(async () => {
    // Everything the registry logs, to prove no secret or key is in it.
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    r = await Registry.start('registry_events', { LOG_LEVEL: 'verbose' });
    nc = await connect({ servers: r.env.NATS_URL });
    naming = new NatsNaming(r.env.NATS_NAMESPACE);
  });
  afterAll(async () => {
    await nc.close();
    await r.stop();
    jest.restoreAllMocks();
  });

  async function streamEvents(): Promise<{ subject: string; event: Record<string, unknown> }[]> {
    await r.published();
    const messages = await streamMessages(await nc.jetstreamManager(), naming.namespace, 'REGISTRY');
    return messages.map((m) => ({ subject: naming.logical(m.subject)!, event: m.json<Record<string, unknown>>() }));
  }

  it('publishes each change with the label of the key that made it, and audits it', async () => {
    // Every publish, in order, as it goes by (the stream keeps each object's last one only).
    const seen: { wire: string; subject: string; event: Record<string, unknown> }[] = [];
    const sub = nc.subscribe(naming.subject('registry.>'), { callback: (_, m) => seen.push({ wire: m.subject, subject: naming.logical(m.subject)!, event: m.json<Record<string, unknown>>() }) });
    await nc.flush();
    const a = await r.account('advanced');
    const alice = (await r.call<{ api_key: string }>('POST', `/v1/accounts/${a.id}/api-keys`, { token: TEST_ADMIN_TOKEN, json: { label: 'alice' } })).body.api_key;
    const d = await r.destination(alice);
    const h = await r.hook(alice, d);
    await r.call('PUT', `${HOOKS}/${h.id}`, { token: alice, json: { enable: false } });
    await r.call('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: a.key });
    await r.call('DELETE', `${HOOKS}/${h.id}`, { token: alice });
    await r.call('PUT', `/v1/accounts/${a.id}/plan`, { token: TEST_ADMIN_TOKEN, json: { plan: 'standard' } });

    await r.published();
    const ofA = () => seen.filter((e) => e.event.account_id === a.id);
    await waitFor('the 9 changes to go by', () => ofA().length >= 9);
    sub.unsubscribe();
    const mine = ofA();
    // Each on its object's own subject.
    expect(mine.map((e) => e.wire)).toEqual(mine.map((e) => naming.subject(`${e.subject}.${String(e.event[({ 'registry.account.changed': 'account_id', 'registry.api_key.changed': 'key_id', 'registry.destination.changed': 'destination_id', 'registry.hook.changed': 'hook_id' } as Record<string, string>)[e.subject]])}`)));
    // The stream keeps the last message of each object only (compacted, SPEC §12).
    const kept = (await streamEvents()).filter((e) => e.event.account_id === a.id);
    expect(kept.map((e) => [e.subject, e.event.changed_by])).toEqual([
      [Subjects.ApiKeyChanged, 'admin'],
      [Subjects.ApiKeyChanged, 'admin'],
      [Subjects.DestinationChanged, 'alice'],
      [Subjects.HookChanged, 'alice'],
      [Subjects.AccountChanged, 'admin'],
    ]);
    expect(kept.find((e) => e.subject === Subjects.HookChanged)?.event.deleted).toBe(true);
    expect(mine.map((e) => [e.subject, e.event.changed_by])).toEqual([
      [Subjects.AccountChanged, 'admin'],
      [Subjects.ApiKeyChanged, 'admin'],
      [Subjects.ApiKeyChanged, 'admin'],
      [Subjects.DestinationChanged, 'alice'],
      [Subjects.HookChanged, 'alice'],
      [Subjects.HookChanged, 'alice'],
      [Subjects.HookChanged, 'owner'],
      [Subjects.HookChanged, 'alice'],
      [Subjects.AccountChanged, 'admin'],
    ]);
    const hookEvents = mine.filter((e) => e.subject === Subjects.HookChanged).map((e) => e.event as unknown as HookChangedEvent);
    expect(hookEvents.map((e) => [e.disabled_reason, e.secrets.length, e.deleted])).toEqual([
      [null, 1, false],
      ['manual', 1, false],
      ['manual', 2, false],
      ['manual', 0, true],
    ]);
    // Sealed under SECRETS_KEY (SPEC §12): only a holder of the key reads the secret.
    expect(hookEvents[2].secrets[1]).toEqual({ secret: expect.stringMatching(/^enc:v1:/), expires_at: expect.any(String) });
    expect(box.open(hookEvents[2].secrets[1].secret)).toBe(h.secret);
    const grace = Date.parse(hookEvents[2].secrets[1].expires_at!) - Date.now();
    expect(grace).toBeGreaterThan(23.9 * 3600_000);
    expect(grace).toBeLessThanOrEqual(24 * 3600_000);

    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    const { rows } = await pg.query('SELECT actor, action FROM hook_registry.audit_log WHERE account_id = $1 ORDER BY id', [a.id]);
    await pg.end();
    expect(rows).toEqual([
      { actor: 'admin', action: 'account.created' },
      { actor: 'admin', action: 'api_key.issued' },
      { actor: 'admin', action: 'api_key.issued' },
      { actor: 'alice', action: 'destination.created' },
      { actor: 'alice', action: 'hook.created' },
      { actor: 'alice', action: 'hook.disabled' },
      { actor: 'owner', action: 'hook.secret_rotated' },
      { actor: 'alice', action: 'hook.deleted' },
      { actor: 'admin', action: 'account.plan_changed' },
    ]);
  });

  it('lets a consumer follow changes, and rebuild the same view from the stream after a restart', async () => {
    const view = new RegistryView(box);
    const follower = await followRegistry(nc, naming, view);
    await follower.caughtUp;

    const a = await r.account('premium');
    const d1 = await r.destination(a.key);
    const d2 = await r.destination(a.key);
    const kept = await r.hook(a.key, d1);
    const rotated = await r.hook(a.key, d2);
    const rotation = await r.call<{ secret: string }>('POST', `/v1/hooks/${rotated.id}/rotate-secret`, { token: a.key });
    await r.published();
    await waitFor('the view to see the rotation', () => view.signingSecrets(rotated.id).length === 2);
    expect(view.hooksToNotify(a.id).map((h) => h.hook_id).sort()).toEqual([kept.id, rotated.id].sort());
    expect(view.accountOfKey(hashApiKey(a.key))).toBe(a.id);
    await follower.stop();

    // While the consumer is down: a destination and its hook go, the plan drops.
    await r.call('DELETE', `/v1/destinations/${d1}`, { token: a.key });
    await r.call('PUT', `/v1/accounts/${a.id}/plan`, { token: TEST_ADMIN_TOKEN, json: { plan: 'standard' } });
    await r.published();

    const rebuilt = new RegistryView(box);
    const restarted = await followRegistry(nc, naming, rebuilt);
    await restarted.caughtUp;
    await restarted.stop();
    expect(rebuilt.hooks.has(kept.id)).toBe(false);
    expect(rebuilt.destinations.has(d1)).toBe(false);
    expect((rebuilt.destinations.get(d2) as DestinationChangedEvent).name).toBe('warehouse');
    expect(rebuilt.hooks.get(rotated.id)?.disabled_reason).toBe('plan_downgrade');
    expect(rebuilt.hooksToNotify(a.id)).toEqual([]);
    expect(rebuilt.signingSecrets(rotated.id)).toEqual([rotation.body.secret, rotated.secret]);
    // Same objects as the registry's own lists.
    expect([...rebuilt.hooks.values()].filter((h) => h.account_id === a.id).map((h) => h.hook_id)).toEqual((await r.hooks(a.key)).map((h) => h.id));
  });

  it('never writes a signing secret or an API key to its logs', async () => {
    const a = await r.account('advanced');
    const h = await r.hook(a.key, await r.destination(a.key));
    const rotated = await r.call<{ secret: string }>('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: a.key });
    await r.call('GET', HOOKS, { token: a.key });
    await r.call('PUT', `${HOOKS}/${h.id}`, { token: a.key, json: { enable: 'nope' } });
    await r.published();
    const all = logged.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [a.key, h.secret, rotated.body.secret, TEST_ADMIN_TOKEN]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/whsec_|phk_/);
  });
});
