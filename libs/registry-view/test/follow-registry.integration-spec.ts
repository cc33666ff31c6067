import { DeadLetterHeaders, Subjects } from '@posthooks/contracts';
import { NatsNaming, provisionStreams } from '@posthooks/messaging';
import { rawNatsPublish, RegistryEvents, streamMessages, testEnv, testStreamLimits, waitFor } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { followRegistry, RegistryFollower } from '../src/follow-registry';
import { RegistryView } from '../src/registry-view';

/**
 * Every service replays REGISTRY at every start: a message there that cannot be applied
 * must be skipped, never stop the view (today a 5,000-deep one blew the stack inside the
 * follower's loop and the view stopped applying anything after it).
 */
describe('followRegistry with messages it cannot apply', () => {
  let nc: NatsConnection;
  let naming: NatsNaming;
  let url: string;
  const followers: RegistryFollower[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    const env = testEnv('follow_registry');
    url = env.NATS_URL;
    nc = await connect({ servers: url });
    naming = new NatsNaming(env.NATS_NAMESPACE);
    await provisionStreams(await nc.jetstreamManager(), naming, 1, testStreamLimits());
  });

  afterAll(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    await nc.close();
    process.off('unhandledRejection', onUnhandled);
  });

  const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
  const follow = async (view: RegistryView) => {
    const follower = await followRegistry(nc, naming, view);
    followers.push(follower);
    return follower;
  };

  it('skips them at start and later, keeps applying the events after them, and dead-letters each once', async () => {
    const registry = new RegistryEvents(nc, naming.namespace);
    const before = await registry.account();
    // Poison already in the stream when the services start: nested 5,000 deep, not JSON, failing its contract.
    await rawNatsPublish(url, naming.subject(Subjects.HookChanged), `{"hook_id":1,"account_id":1,"secrets":${deep(5000)}}`);
    await rawNatsPublish(url, naming.subject(Subjects.AccountChanged), 'not json');
    await rawNatsPublish(url, naming.subject(Subjects.ApiKeyChanged), '{"key_id":"x"}');
    const after = await registry.account();

    // Two services start on the same stream.
    const views = [new RegistryView(), new RegistryView()];
    const started = await Promise.all(views.map(follow));
    await Promise.all(started.map((f) => f.caughtUp));
    for (const view of views) expect([view.accounts.has(before.id), view.accounts.has(after.id)]).toEqual([true, true]);

    // And one arrives while they follow: the events behind it are still applied.
    await rawNatsPublish(url, naming.subject(Subjects.DestinationChanged), `{"destination_id":${deep(100)}}`);
    const live = await registry.account();
    await waitFor('both views to apply the account after the live poison', () => views.every((v) => v.accounts.has(live.id)));

    const jsm = await nc.jetstreamManager();
    const parked = await waitFor('4 dead letters', async () => {
      const all = await streamMessages(jsm, naming.namespace, 'DEADLETTER');
      return all.length >= 4 && all;
    });
    // Two views skipped each message; the Nats-Msg-Id kept one dead letter of each.
    expect(parked.map((m) => [m.header.get(DeadLetterHeaders.OriginalSubject), m.header.get(DeadLetterHeaders.Reason)])).toEqual([
      [Subjects.HookChanged, 'nested deeper than 64 levels'],
      [Subjects.AccountChanged, expect.stringMatching(/^not JSON/)],
      [Subjects.ApiKeyChanged, expect.stringContaining('invalid registry.api_key.changed')],
      [Subjects.DestinationChanged, 'nested deeper than 64 levels'],
    ]);
    expect(parked.map((m) => m.header.get(DeadLetterHeaders.OriginalStream))).toEqual(Array(4).fill(naming.stream('REGISTRY')));
    expect(unhandled).toEqual([]);
  });
});

/**
 * The ingest-gateway follows only API keys and destinations (its NATS user may not read
 * hooks): its view must still catch up when the stream's last message is one it does not
 * read, or when none of its subjects has a message yet.
 */
describe('followRegistry on some subjects only', () => {
  let nc: NatsConnection;
  let naming: NatsNaming;
  const followers: RegistryFollower[] = [];

  beforeAll(async () => {
    const env = testEnv('follow_registry_subjects');
    nc = await connect({ servers: env.NATS_URL });
    naming = new NatsNaming(env.NATS_NAMESPACE);
    await provisionStreams(await nc.jetstreamManager(), naming, 1, testStreamLimits());
  });

  afterAll(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    await nc.close();
  });

  const follow = async (view: RegistryView) => {
    const follower = await followRegistry(nc, naming, view, [Subjects.ApiKeyChanged, Subjects.DestinationChanged]);
    followers.push(follower);
    return follower;
  };

  it('catches up on an empty subject, reads its subjects only, and keeps following', async () => {
    const registry = new RegistryEvents(nc, naming.namespace);
    // Only a hook so far: nothing on the followed subjects.
    await registry.hook(1, 'https://example.test/h');
    const early = new RegistryView();
    await (await follow(early)).caughtUp;
    expect([early.keysByHash.size, early.hooks.size]).toEqual([0, 0]);

    const acc = await registry.account();
    const destination = await registry.destination(acc.id);
    await registry.hook(acc.id, 'https://example.test/h', { destinationId: destination });
    // Started now, with a hook as the stream's last message.
    const view = new RegistryView();
    await (await follow(view)).caughtUp;
    expect(view.accountOfKey(acc.keyHash)).toBe(acc.id);
    expect(view.destinations.has(destination)).toBe(true);
    expect([view.hooks.size, view.accounts.size]).toEqual([0, 0]);
    // Current at the last message it reads: the hook after it is not its to wait for.
    const last = (await (await nc.jetstreamManager()).streams.info(naming.stream('REGISTRY'))).state.last_seq;
    expect(view.sequence).toBe(last - 1);

    // The first view, following all along, got the same.
    await waitFor('the early view to apply the key and destination', () => early.accountOfKey(acc.keyHash) === acc.id && early.destinations.has(destination));
    expect(early.hooks.size).toBe(0);
  });
});
