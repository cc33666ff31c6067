import { HookChangedEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { followRegistry, RegistryFollower, RegistryView } from '@posthooks/registry-view';
import { TEST_SECRETS_KEY, waitFor } from '@posthooks/testing';
import { SecretBox } from '@posthooks/webhooks';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { HOOKS, Registry } from './registry-harness';

/** Issue 13, item 4: the registry cannot wedge (secrets, poison events, commit order). */
describe('the registry cannot wedge', () => {
  let r: Registry;
  let nc: NatsConnection;
  let pg: Client;
  let view: RegistryView;
  let follower: RegistryFollower;
  const box = new SecretBox(TEST_SECRETS_KEY);

  beforeAll(async () => {
    r = await Registry.start('registry_wedge');
    nc = await connect({ servers: r.env.NATS_URL });
    pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    view = new RegistryView(box);
    follower = await followRegistry(nc, new NatsNaming(r.env.NATS_NAMESPACE), view);
    await follower.caughtUp;
  });
  afterAll(async () => {
    await follower.stop();
    await nc.close();
    await pg.end();
    await r.stop();
  });

  /** A change made after everything before it: once the view has it, it has applied all that came before. */
  async function viewCaughtUp(): Promise<void> {
    const marker = await r.account();
    await waitFor('the view to apply every change so far', () => view.accounts.has(marker.id), { timeoutMs: 20_000 });
  }

  it('keeps the new secret and the one before it, however many rotations', async () => {
    const a = await r.account();
    const h = await r.hook(a.key, await r.destination(a.key));
    const secrets = [h.secret];
    for (let i = 0; i < 4; i++) secrets.push((await r.call<{ secret: string }>('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: a.key })).body.secret);
    await viewCaughtUp();
    const event = view.hooks.get(h.id) as HookChangedEvent;
    // Newest first: the last rotation's secret without an end, the one before it for 24 h.
    expect(event.secrets.map((s) => box.open(s.secret))).toEqual([secrets[4], secrets[3]]);
    expect(event.secrets[0].expires_at).toBeNull();
    expect(Date.parse(String(event.secrets[1].expires_at)) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(view.signingSecrets(h.id)).toEqual([secrets[4], secrets[3]]);
    const { rows } = await pg.query('SELECT count(*)::int AS n FROM hook_registry.hook_secrets WHERE hook_id = $1', [h.id]);
    expect(rows[0].n).toBe(2);
  });

  it('sets aside an event that can never be published, and publishes the changes behind it', async () => {
    // A hook event over NATS's payload limit (as thousands of piled-up secrets would make).
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const secrets = Array.from({ length: Math.ceil(maxPayload / 60) + 100 }, (_, i) => ({ secret: `whsec_${String(i).padStart(44, '0')}`, expires_at: null }));
    const poison = { hook_id: 999_999, account_id: 999_999, destination_id: 1, url: 'https://x.test/', disabled_at: null, disabled_reason: null, secrets, deleted: false, changed_by: 'test', changed_at: new Date().toISOString() };
    const [{ id: poisonId }] = (await pg.query('INSERT INTO hook_registry.outbox (subject, payload) VALUES ($1, $2) RETURNING id', [Subjects.HookChanged, JSON.stringify(poison)])).rows;

    const behind = await r.account();
    await waitFor('the change behind the poison event to reach the view', () => view.accounts.has(behind.id), { timeoutMs: 20_000 });

    // The relay marks the row in the transaction that published the change behind it: wait for its commit.
    const row = await waitFor('the poison row to be marked', async () => {
      const { rows } = await pg.query('SELECT set_aside_at, set_aside_reason FROM hook_registry.outbox WHERE id = $1', [poisonId]);
      return rows[0]?.set_aside_at ? rows[0] : undefined;
    });
    expect(row).toEqual({ set_aside_at: expect.any(Date), set_aside_reason: 'over the NATS payload limit' });
    expect(view.hooks.has(999_999)).toBe(false);
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toMatch(/posthooks_registry_events_set_aside_total\{[^}]*subject="registry\.hook\.changed"[^}]*\} 1\n/);
    expect(metrics).toMatch(/posthooks_registry_outbox_pending\{[^}]*\} 0\n/);
    // Later changes keep flowing.
    await expect(r.published()).resolves.toBeUndefined();
  });

  it('publishes one hook\'s changes in commit order: 200 deletes racing rotations leave no hook in the view', async () => {
    // 20 accounts of 10 hooks (the cap), made side by side.
    const perAccount = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const a = await r.account();
        const d = await r.destination(a.key);
        const made: { id: number; key: string }[] = [];
        for (let i = 0; i < 10; i++) made.push({ id: (await r.hook(a.key, d, `https://hooks.acme.test/${i}`)).id, key: a.key });
        return made;
      }),
    );
    const hooks = perAccount.flat();
    await viewCaughtUp();
    expect(hooks.every((h) => view.hooks.has(h.id))).toBe(true);

    const outcomes = await Promise.all(
      hooks.map(async (h) => {
        const [deleted, rotated] = await Promise.all([
          r.call('DELETE', `${HOOKS}/${h.id}`, { token: h.key }),
          r.call('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: h.key }),
        ]);
        return [deleted.status, rotated.status];
      }),
    );
    expect(outcomes.map(([deleted]) => deleted)).toEqual(Array(200).fill(200));
    expect(outcomes.every(([, rotated]) => rotated === 200 || rotated === 404)).toBe(true);

    const keys = [...new Set(hooks.map((h) => h.key))];
    for (const key of keys) expect(await r.hooks(key)).toEqual([]);
    await viewCaughtUp();
    // What the dispatcher would still send to while the API lists nothing.
    expect(hooks.filter((h) => view.hooks.has(h.id)).map((h) => h.id)).toEqual([]);
  });
});
