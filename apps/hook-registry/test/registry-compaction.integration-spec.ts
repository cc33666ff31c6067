import { HookChangedEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { followRegistry, RegistryView } from '@posthooks/registry-view';
import { streamMessages, TEST_SECRETS_KEY } from '@posthooks/testing';
import { SecretBox } from '@posthooks/webhooks';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { RegistryLayoutUpgrade } from '../src/changes/registry-layout-upgrade';
import { RegistryTombstones } from '../src/changes/registry-tombstones';
import { HookRow } from '../src/database/rows';
import { HookChanges } from '../src/hooks/hook-changes';
import { HOOKS, Registry } from './registry-harness';

const DAY_MS = 24 * 60 * 60 * 1000;
const box = new SecretBox(TEST_SECRETS_KEY);

/** A view that counts what it applies: the messages a service's start replays. */
class CountingView extends RegistryView {
  applied = 0;
  override apply(...args: Parameters<RegistryView['apply']>): void {
    this.applied++;
    super.apply(...args);
  }
}

/**
 * Issue 15 item 3: REGISTRY is compacted. Each object's events are on a subject of its
 * own and the stream keeps the last one, so a start replays current state, not history;
 * tombstones age out; a stream written in the old layout is upgraded at start.
 */
describe('compacted REGISTRY', () => {
  let r: Registry;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;

  beforeAll(async () => {
    r = await Registry.start('registry_compaction');
    nc = await connect({ servers: r.env.NATS_URL });
    jsm = await nc.jetstreamManager();
    naming = new NatsNaming(r.env.NATS_NAMESPACE);
  });
  afterAll(async () => {
    await nc?.close();
    await r?.stop();
  });

  const stream = () => naming.stream('REGISTRY');
  const messagesOn = async (subject: string) => (await jsm.streams.info(stream(), { subjects_filter: naming.subject(subject) })).state.subjects?.[naming.subject(subject)] ?? 0;

  /** `n` changes to one hook, each recorded by the registry's own code, as an API change is. */
  async function changeHook(hookId: number, n: number, from: number): Promise<void> {
    const db = r.app.get(DataSource);
    const changes = r.app.get(HookChanges);
    for (let done = 0; done < n; done += 1000) {
      await db.transaction(async (m) => {
        for (let i = done; i < Math.min(n, done + 1000); i++) {
          const [[hook]] = await m.query<[HookRow[], number]>('UPDATE hooks SET url = $2, modified_at = now() WHERE id = $1 RETURNING *', [hookId, `https://hooks.acme.test/${from + i}`]);
          await changes.record(m, hook, 'hook.updated', 'test');
        }
      });
    }
    await r.published();
  }

  /** A service's start: how many messages its view replays, and how long until it is caught up. */
  async function start(): Promise<{ applied: number; ms: number }> {
    const view = new CountingView();
    const t0 = performance.now();
    const follower = await followRegistry(nc, naming, view);
    await follower.caughtUp;
    const ms = performance.now() - t0;
    await follower.stop();
    return { applied: view.applied, ms };
  }

  it('keeps one message for a hook changed 10,000 times, and a view replays as much after 10,000 changes as after 100', async () => {
    const a = await r.account();
    const h = await r.hook(a.key, await r.destination(a.key));
    await changeHook(h.id, 100, 0);
    expect(await messagesOn(`${Subjects.HookChanged}.${h.id}`)).toBe(1);
    const after100 = await start();

    await changeHook(h.id, 9_900, 100);
    expect(await messagesOn(`${Subjects.HookChanged}.${h.id}`)).toBe(1);
    const [last] = (await streamMessages(jsm, naming.namespace, 'REGISTRY', Subjects.HookChanged)).filter((m) => m.json<HookChangedEvent>().hook_id === h.id);
    expect(last.json<HookChangedEvent>().url).toBe('https://hooks.acme.test/9999');
    const after10k = await start();

    expect(after10k.applied).toBe(after100.applied);
    process.stdout.write(`compacted REGISTRY: a start replays ${after100.applied} messages in ${after100.ms.toFixed(0)} ms after 100 changes, ${after10k.applied} in ${after10k.ms.toFixed(0)} ms after 10,000\n`);
  }, 120_000);

  it('purges the subject of a hook deleted more than REGISTRY_TOMBSTONE_DAYS ago, and keeps live objects and recent tombstones', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    const live = await r.hook(a.key, d);
    const gone = await r.hook(a.key, d);
    expect((await r.call('DELETE', `${HOOKS}/${gone.id}`, { token: a.key })).status).toBe(200);
    await r.published();
    const tombstones = r.app.get(RegistryTombstones);

    // Deleted just now: the tombstone stays for views that were away.
    await tombstones.sweep();
    expect(await messagesOn(`${Subjects.HookChanged}.${gone.id}`)).toBe(1);

    // Past the horizon, but the stream's last message: kept (a view's start waits for the last sequence).
    const later = new Date(Date.now() + (r.env.REGISTRY_TOMBSTONE_DAYS + 1) * DAY_MS);
    expect((await tombstones.sweep(later)).registry_tombstones).toBe(0);
    expect(await messagesOn(`${Subjects.HookChanged}.${gone.id}`)).toBe(1);

    // Once something followed it: it goes; the live hook, its destination and account stay.
    await r.hook(a.key, d);
    await r.published();
    expect((await tombstones.sweep(later)).registry_tombstones).toBeGreaterThanOrEqual(1);
    expect(await messagesOn(`${Subjects.HookChanged}.${gone.id}`)).toBe(0);
    expect(await messagesOn(`${Subjects.HookChanged}.${live.id}`)).toBe(1);
    expect(await messagesOn(`${Subjects.DestinationChanged}.${d}`)).toBe(1);
    expect(await messagesOn(`${Subjects.AccountChanged}.${a.id}`)).toBe(1);
    // A view started now catches up without it.
    const view = new RegistryView(box);
    const follower = await followRegistry(nc, naming, view);
    await follower.caughtUp;
    await follower.stop();
    expect([view.hooks.has(live.id), view.hooks.has(gone.id)]).toEqual([true, false]);
  });
});

/**
 * A REGISTRY written by the registry before compaction: every change on the kind's one
 * subject, history and all, a hook's secret in clear in its oldest message and in
 * Postgres. After one start of this registry, no message of the old layout remains, no
 * `whsec_` anywhere on the stream, and a view rebuilt from the stream has every object.
 */
describe('upgrading REGISTRY from the layout before compaction', () => {
  it('republishes every object on its own subject, sealed, and purges the old layout', async () => {
    let r = await Registry.start('registry_layout_upgrade');
    const nc = await connect({ servers: r.env.NATS_URL });
    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    try {
      const jsm = await nc.jetstreamManager();
      const naming = new NatsNaming(r.env.NATS_NAMESPACE);
      const stream = naming.stream('REGISTRY');
      const a = await r.account();
      const d = await r.destination(a.key);
      const h = await r.hook(a.key, d);
      await r.published();
      const current = await streamMessages(jsm, naming.namespace, 'REGISTRY');
      await r.stop();

      // The store as the registry before compaction (and before SECRETS_KEY) left it.
      const info = await jsm.streams.info(stream);
      await jsm.streams.update(stream, { ...info.config, max_msgs_per_subject: -1 });
      await jsm.streams.purge(stream);
      await pg.query('UPDATE hook_registry.hook_secrets SET secret = $2 WHERE hook_id = $1', [h.id, h.secret]);
      const js = nc.jetstream();
      for (const m of current) {
        const logical = naming.logical(m.subject)!;
        const event = m.json<Record<string, unknown>>();
        if (logical === Subjects.HookChanged) {
          const clear = { ...event, secrets: [{ secret: h.secret, expires_at: null }] };
          // History: created with the clear secret, then changed.
          await js.publish(naming.subject(logical), JSON.stringify(clear));
          await js.publish(naming.subject(logical), JSON.stringify({ ...clear, url: 'https://hooks.acme.test/moved' }));
        }
        await js.publish(naming.subject(logical), JSON.stringify(logical === Subjects.HookChanged ? { ...event, secrets: [{ secret: h.secret, expires_at: null }] } : event));
      }
      const oldLayout = await streamMessages(jsm, naming.namespace, 'REGISTRY');
      expect(oldLayout.some((m) => new TextDecoder().decode(m.data).includes('whsec_'))).toBe(true);

      r = await Registry.start('registry_layout_upgrade');
      await r.app.get(RegistryLayoutUpgrade).done;

      const after = await streamMessages(jsm, naming.namespace, 'REGISTRY');
      // No old-layout subject, no clear secret.
      expect(after.filter((m) => !/\.\d+$/.test(m.subject)).map((m) => m.subject)).toEqual([]);
      expect(after.filter((m) => new TextDecoder().decode(m.data).includes('whsec_'))).toEqual([]);
      // Every object on its own subject, once.
      const subjects = after.map((m) => m.subject);
      expect(new Set(subjects).size).toBe(subjects.length);
      expect(subjects).toEqual(
        expect.arrayContaining([`${Subjects.AccountChanged}.${a.id}`, `${Subjects.DestinationChanged}.${d}`, `${Subjects.HookChanged}.${h.id}`].map((s) => naming.subject(s))),
      );
      // A view rebuilt from the stream alone signs with the hook's secret.
      const view = new RegistryView(box);
      const follower = await followRegistry(nc, naming, view);
      await follower.caughtUp;
      await follower.stop();
      expect(view.signingSecrets(h.id)).toEqual([h.secret]);
      expect(view.accounts.has(a.id)).toBe(true);
      expect(view.destinations.has(d)).toBe(true);

      // A second start finds nothing left to upgrade and publishes nothing.
      const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
      await r.stop();
      r = await Registry.start('registry_layout_upgrade');
      await r.app.get(RegistryLayoutUpgrade).done;
      await r.published();
      expect((await jsm.streams.info(stream)).state.last_seq).toBe(lastSeq);
    } finally {
      await r.stop();
      await pg.end();
      await nc.close();
    }
  }, 60_000);
});
