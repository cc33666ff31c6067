import { Subjects } from '@posthooks/contracts';
import { testEnv, testStreamLimits } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { NatsNaming, provisionConsumer, provisionStreams, streamConfig } from '../src';

/** Issue 16: a LOADS stream of the previous release gains `load.started`, and the dispatcher's consumer gets it. */
describe('LOADS after an upgrade', () => {
  let nc: NatsConnection;
  const naming = new NatsNaming(testEnv('loads_subjects').NATS_NAMESPACE);

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().NATS_URL });
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const stream of ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'REGISTRY', 'DEADLETTER']) await jsm.streams.delete(naming.stream(stream)).catch(() => undefined);
    await nc.close();
  });

  it('adds load.started to a LOADS that had the two load subjects, keeps what it held, and the unfiltered consumer reads it', async () => {
    const jsm = await nc.jetstreamManager();
    const limits = testStreamLimits();
    // LOADS as the previous release provisioned it, with its consumer and an unread event.
    const previous = streamConfig('LOADS', naming, 1, limits);
    await jsm.streams.add({ ...previous, subjects: [Subjects.TableLoaded, Subjects.TableRejected].map((s) => naming.subject(s)) });
    await provisionConsumer(jsm, naming, { stream: 'LOADS', durable: 'dispatcher', ackWaitMs: 10_000, maxAckPending: 16 });
    const js = nc.jetstream();
    await js.publish(naming.subject(Subjects.TableLoaded), '{"before":true}');

    await provisionStreams(jsm, naming, 1, limits);
    expect((await jsm.streams.info(naming.stream('LOADS'))).config.subjects).toEqual(['table.loaded', 'table.rejected', 'load.started'].map((s) => naming.subject(s)));
    await js.publish(naming.subject(Subjects.LoadStarted), '{"after":true}');

    const consumer = await js.consumers.get(naming.stream('LOADS'), 'dispatcher');
    const got: string[] = [];
    for await (const m of await consumer.fetch({ max_messages: 2, expires: 5000 })) {
      got.push(`${naming.logical(m.subject)} ${m.string()}`);
      m.ack();
      if (got.length === 2) break;
    }
    expect(got).toEqual(['table.loaded {"before":true}', 'load.started {"after":true}']);
  });
});
