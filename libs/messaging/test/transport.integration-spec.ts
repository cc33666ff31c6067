import { DeadLetterHeaders, Subjects } from '@posthooks/contracts';
import { freePort, rawNatsPublish, testStreamLimits, waitFor } from '@posthooks/testing';
import { Client } from 'pg';
import { JetStreamManager, NatsConnection } from 'nats';
import { EventPublisher, messageFailures, messagesHandled, NatsNaming, provisionStreams } from '../src';
import { freshNamespace, loadEvent, Recorder, startConsumer, stopConsumer } from './harness';

describe('JetStreamTransport on the real nats-server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let url: string;
  let publisher: EventPublisher;
  let recorder: Recorder;
  const running: Awaited<ReturnType<typeof startConsumer>>[] = [];

  const start = async (instance: string, ...rest: Parameters<typeof startConsumer> extends [string, NatsNaming, Recorder, ...infer R] ? R : never) => {
    const c = await startConsumer(instance, naming, recorder, ...rest);
    running.push(c);
    return c;
  };
  const consumerIdle = (durable = 'test-dispatcher') =>
    waitFor(`consumer ${durable} to have nothing pending`, async () => {
      const info = await jsm.consumers.info(naming.stream('LOADS'), durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  const deadLetters = async (expected: number) => {
    const stream = naming.stream('DEADLETTER');
    await waitFor(`${expected} dead letters`, async () => (await jsm.streams.info(stream)).state.messages === expected);
    return Promise.all(Array.from({ length: expected }, (_, i) => jsm.streams.getMessage(stream, { seq: i + 1 })));
  };

  /** A counter's total over the test consumer's series (the counters are global: compare before and after). */
  const total = async (counter: typeof messageFailures | typeof messagesHandled, labels: Record<string, string> = {}) =>
    (await counter.get()).values
      .filter((v) => {
        const series: Record<string, unknown> = v.labels;
        return series.consumer === 'test-dispatcher' && Object.entries(labels).every(([name, value]) => series[name] === value);
      })
      .reduce((sum, v) => sum + v.value, 0);

  // A handler promise nobody observed would surface here (in a service: the process died).
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  beforeEach(async () => {
    ({ nc, jsm, naming, url } = await freshNamespace());
    publisher = new EventPublisher(nc.jetstream(), naming);
    recorder = new Recorder();
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map(stopConsumer));
    await nc.close();
  });

  it('delivers each event to exactly one of two competing consumer instances', async () => {
    recorder.behaviour = () => new Promise((r) => setTimeout(r, 10));
    await start('a', { concurrency: 4 });
    await start('b', { concurrency: 4 });
    for (let i = 0; i < 40; i++) await publisher.publish(Subjects.TableLoaded, loadEvent(`t${i}`), { msgId: `e${i}` });

    await waitFor('40 events handled', () => recorder.handled.length >= 40);
    await consumerIdle();
    expect(recorder.handled).toHaveLength(40);
    expect(new Set(recorder.tables()).size).toBe(40);
    const byInstance = (name: string) => recorder.handled.filter((h) => h.instance === name).length;
    expect(byInstance('a')).toBeGreaterThan(0);
    expect(byInstance('b')).toBeGreaterThan(0);
  });

  it('redelivers a message whose handler asked for a retry with ctx.retryIn, after the delay, and counts no failure', async () => {
    recorder.behaviour = (h, ctx) => {
      if (h.deliveryCount === 1) ctx.retryIn(700, 'receiver busy');
    };
    const failuresBefore = await total(messageFailures);
    const retriesBefore = await total(messagesHandled, { outcome: 'retry' });
    await start('a');
    await publisher.publish(Subjects.TableLoaded, loadEvent('orders'), { msgId: 'retry-1' });

    await waitFor('the redelivery', () => recorder.handled.length >= 2, { timeoutMs: 5000 });
    await consumerIdle();
    const [first, second] = recorder.handled;
    expect(second.deliveryCount).toBe(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(650);
    expect(recorder.handled).toHaveLength(2);
    expect(await total(messageFailures)).toBe(failuresBefore);
    expect(await total(messagesHandled, { outcome: 'retry' })).toBe(retriesBefore + 1);
  });

  it('ends a failure streak at each ctx.retryIn: real errors between retries never add up to the dead-letter horizon', async () => {
    // Odd deliveries fail, even ones ask for a retry; the 13th succeeds. Counted from the
    // first failure, the errors would pass the 300 ms horizon by about the 7th delivery.
    recorder.behaviour = (h, ctx) => {
      if (h.deliveryCount > 12) return;
      if (h.deliveryCount % 2 === 1) throw new Error('broken between retries');
      ctx.retryIn(60, 'not yet');
    };
    await start('a', { deadLetterAfterMs: 300, retryBaseMs: 20, retryMaxMs: 50 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('alternating'), { msgId: 'alternating-1' });

    await waitFor('the 13th delivery', () => recorder.handled.length >= 13, { timeoutMs: 10_000 });
    await consumerIdle();
    expect(recorder.handled.map((h) => h.deliveryCount)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    // The last failure came well past the horizon after the first one.
    expect(recorder.handled[10].at - recorder.handled[0].at).toBeGreaterThan(300);
    expect((await jsm.streams.info(naming.stream('DEADLETTER'))).state.messages).toBe(0);
  });

  it('treats a handler that throws after ctx.retryIn as failed: backoff instead of its delay, then dead-lettered at the horizon', async () => {
    recorder.behaviour = (_, ctx) => {
      ctx.retryIn(60_000, 'asked for a minute');
      throw new Error('broken after asking for a retry');
    };
    const failuresBefore = await total(messageFailures, { kind: 'error' });
    await start('a', { deadLetterAfterMs: 500, retryBaseMs: 20, retryMaxMs: 50 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('throws-after-retry'), { msgId: 'throws-1' });

    const [parked] = await deadLetters(1);
    expect(parked.header.get(DeadLetterHeaders.Reason)).toMatch(/^failed for \d+ s over \d+ deliveries: broken after asking for a retry$/);
    await consumerIdle();
    // A minute's delay would have allowed one delivery in this time; the backoff allowed many.
    expect(recorder.handled.length).toBeGreaterThan(3);
    expect(recorder.handled[recorder.handled.length - 1].at - recorder.handled[0].at).toBeGreaterThanOrEqual(450);
    expect(await total(messageFailures, { kind: 'error' })).toBeGreaterThanOrEqual(failuresBefore + recorder.handled.length);
  });

  it('retries a handler that throws an unexpected error, with backoff', async () => {
    recorder.behaviour = (h) => {
      if (h.deliveryCount < 3) throw new Error('database hiccup');
    };
    await start('a', { retryBaseMs: 100 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('orders'), { msgId: 'retry-2' });

    await waitFor('the third delivery', () => recorder.handled.length >= 3);
    await consumerIdle();
    expect(recorder.handled.map((h) => h.deliveryCount)).toEqual([1, 2, 3]);
    expect(recorder.handled[2].at - recorder.handled[1].at).toBeGreaterThanOrEqual(180);
  });

  it('dead-letters a non-JSON payload and a payload missing a required field, with the reason, and keeps going', async () => {
    await start('a', { concurrency: 1 });
    const js = nc.jetstream();
    await js.publish(naming.subject(Subjects.TableLoaded), 'this is not json');
    await js.publish(naming.subject(Subjects.TableLoaded), JSON.stringify({ client_id: 1, integration_name: 'shopify' }));
    await publisher.publish(Subjects.TableLoaded, loadEvent('after-the-bad-ones'), { msgId: 'good-1' });

    await waitFor('the good event', () => recorder.tables().includes('after-the-bad-ones'));
    const [notJson, missing] = await deadLetters(2);
    expect(notJson.subject).toBe(naming.deadLetterSubject(Subjects.TableLoaded));
    expect(notJson.header.get(DeadLetterHeaders.Reason)).toMatch(/^not JSON/);
    expect(notJson.header.get(DeadLetterHeaders.OriginalSubject)).toBe('table.loaded');
    expect(notJson.header.get(DeadLetterHeaders.OriginalSequence)).toBe('1');
    expect(Buffer.from(notJson.data).toString()).toBe('this is not json');
    expect(missing.header.get(DeadLetterHeaders.Reason)).toContain('table_name');
    await consumerIdle();
    expect(recorder.tables()).toEqual(['after-the-bad-ones']);
  });

  it('moves what a handler dead-letters with ctx.deadLetter to DEADLETTER, with the reason and where it came from, acks it, and keeps going', async () => {
    recorder.behaviour = (h, ctx) => {
      if (h.event.table_name === 'poison') ctx.deadLetter('destination 7 does not exist');
    };
    await start('a', { concurrency: 1 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('poison'), { msgId: 'p1' });
    await publisher.publish(Subjects.TableLoaded, loadEvent('after-the-poison'), { msgId: 'p2' });

    const [parked] = await deadLetters(1);
    expect(parked.subject).toBe(naming.deadLetterSubject(Subjects.TableLoaded));
    expect(parked.header.get(DeadLetterHeaders.Reason)).toBe('destination 7 does not exist');
    expect(parked.header.get(DeadLetterHeaders.OriginalSubject)).toBe('table.loaded');
    expect(parked.header.get(DeadLetterHeaders.OriginalStream)).toBe(naming.stream('LOADS'));
    expect(parked.header.get(DeadLetterHeaders.OriginalSequence)).toBe('1');
    expect(parked.header.get(DeadLetterHeaders.OriginalMsgId)).toBe('p1');
    expect(JSON.parse(Buffer.from(parked.data).toString())).toMatchObject({ table_name: 'poison' });
    await waitFor('the next event', () => recorder.tables().includes('after-the-poison'));
    // Acked: nothing pending, and the poison was handled once.
    await consumerIdle();
    expect(recorder.tables()).toEqual(['poison', 'after-the-poison']);
  });

  it('dead-letters a real error once it has failed for the horizon', async () => {
    recorder.behaviour = () => {
      throw new Error('always broken');
    };
    await start('a', { deadLetterAfterMs: 500, retryBaseMs: 20, retryMaxMs: 50 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('flaky'), { msgId: 'p2' });

    const [parked] = await deadLetters(1);
    expect(parked.header.get(DeadLetterHeaders.Reason)).toMatch(/^failed for \d+ s over \d+ deliveries: always broken$/);
    await consumerIdle();
    const flaky = recorder.handled;
    // Dead-lettered by time, not by a count: retried for at least the horizon.
    expect(flaky[flaky.length - 1].at - flaky[0].at).toBeGreaterThanOrEqual(450);
    expect(flaky.length).toBeGreaterThan(3);
  });

  it('never dead-letters while the database is out of reach: retried with capped backoff past the horizon and past 20 deliveries', async () => {
    // A real connection error from the pg driver: a port where nothing listens.
    const closedPort = await freePort();
    recorder.behaviour = async (h) => {
      if (h.deliveryCount <= 25) await new Client({ host: '127.0.0.1', port: closedPort, user: 'postgres', connectionTimeoutMillis: 2000 }).connect();
    };
    await start('a', { deadLetterAfterMs: 300, retryBaseMs: 10, retryMaxMs: 40 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('during-outage'), { msgId: 'outage-1' });

    await waitFor('the delivery after the outage', () => recorder.handled.length >= 26, { timeoutMs: 15_000 });
    await consumerIdle();
    expect(recorder.handled.map((h) => h.deliveryCount)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    expect(recorder.handled[25].at - recorder.handled[0].at).toBeGreaterThan(300);
    expect((await jsm.streams.info(naming.stream('DEADLETTER'))).state.messages).toBe(0);
  });

  it('dead-letters a table.loaded nested 5,000 deep (it killed the dispatcher) with the reason, and handles the next one', async () => {
    await start('a', { concurrency: 1 });
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const body = `{"client_id":1,"integration_name":"shopify","table_name":"deep","bookmark_metadata":${deep}}`;
    expect(body.length).toBeGreaterThan(30_000);
    await rawNatsPublish(url, naming.subject(Subjects.TableLoaded), body);
    await publisher.publish(Subjects.TableLoaded, loadEvent('after-the-deep-one'), { msgId: 'after-deep' });

    await waitFor('the good event', () => recorder.tables().includes('after-the-deep-one'));
    const [parked] = await deadLetters(1);
    expect(parked.header.get(DeadLetterHeaders.Reason)).toBe('nested deeper than 64 levels');
    expect(parked.header.get(DeadLetterHeaders.OriginalSubject)).toBe('table.loaded');
    expect(Buffer.from(parked.data).toString()).toBe(body);
    await consumerIdle();
    expect(recorder.tables()).toEqual(['after-the-deep-one']);
    expect(unhandled).toEqual([]);
  });

  it('stores a duplicate Nats-Msg-Id once', async () => {
    const first = await publisher.publish(Subjects.TableLoaded, loadEvent('orders'), { msgId: 'same-id' });
    const again = await publisher.publish(Subjects.TableLoaded, loadEvent('orders'), { msgId: 'same-id' });
    expect([first.duplicate, again.duplicate]).toEqual([false, true]);
    expect((await jsm.streams.info(naming.stream('LOADS'))).state.messages).toBe(1);

    await start('a');
    await waitFor('the event', () => recorder.handled.length === 1);
    await consumerIdle();
    expect(recorder.handled).toHaveLength(1);
    expect(recorder.handled[0].eventId).toBe('same-id');
  });

  it('loses nothing when a consumer stops mid-batch: unacked messages come back to another instance', async () => {
    const release: (() => void)[] = [];
    recorder.behaviour = (h) => (h.instance === 'doomed' ? new Promise<void>((r) => release.push(r)) : undefined);
    const doomed = await start('doomed', { concurrency: 5, ackWaitMs: 1000 }, 100);
    for (let i = 0; i < 10; i++) await publisher.publish(Subjects.TableLoaded, loadEvent(`t${i}`), { msgId: `m${i}` });
    await waitFor('5 messages in flight in the doomed instance', () => recorder.handled.length === 5);

    // The process dies: handlers never finish, the connection goes away without acking.
    await doomed.app.close();
    await doomed.nc.close();
    running.splice(running.indexOf(doomed), 1);

    await start('survivor', { concurrency: 5, ackWaitMs: 1000 });
    await waitFor('all 10 handled by the survivor', () => new Set(recorder.handled.filter((h) => h.instance === 'survivor').map((h) => h.event.table_name)).size === 10);
    await consumerIdle();
    release.forEach((r) => r());
  });

  it('keeps a slow handler\'s message with working(): no redelivery past the ack wait', async () => {
    recorder.behaviour = () => new Promise((r) => setTimeout(r, 2500));
    await start('a', { ackWaitMs: 1000 });
    await publisher.publish(Subjects.TableLoaded, loadEvent('slow'), { msgId: 'slow-1' });

    await waitFor('the slow handler to finish', async () => recorder.handled.length === 1 && (await jsm.consumers.info(naming.stream('LOADS'), 'test-dispatcher')).num_ack_pending === 0, { timeoutMs: 8000 });
    expect(recorder.handled.map((h) => h.deliveryCount)).toEqual([1]);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    let running = 0;
    let peak = 0;
    recorder.behaviour = async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
    };
    await start('a', { concurrency: 3 });
    for (let i = 0; i < 20; i++) await publisher.publish(Subjects.TableLoaded, loadEvent(`t${i}`), { msgId: `c${i}` });

    await waitFor('20 events handled', () => recorder.handled.length === 20);
    await consumerIdle();
    expect(peak).toBe(3);
  });

  it('fetches no more while the messages its handlers hold pass maxBytesInFlight', async () => {
    let running = 0;
    let peak = 0;
    recorder.behaviour = async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
    };
    // Each message is about 1 KB; 2.5 KB in flight admits a third message, never a fourth.
    const note = 'x'.repeat(900);
    await start('a', { concurrency: 10, maxBytesInFlight: 2500, fetchBatch: 1 });
    for (let i = 0; i < 12; i++) await publisher.publish(Subjects.TableLoaded, loadEvent(`t${i}`, { error_message: note }), { msgId: `b${i}` });

    await waitFor('12 events handled', () => recorder.handled.length === 12);
    await consumerIdle();
    expect(peak).toBe(3);
  });

  it('lets running handlers finish and ack when it is closed', async () => {
    let finished = 0;
    recorder.behaviour = async () => {
      await new Promise((r) => setTimeout(r, 300));
      finished++;
    };
    const c = await start('a', { concurrency: 4 });
    for (let i = 0; i < 4; i++) await publisher.publish(Subjects.TableLoaded, loadEvent(`t${i}`), { msgId: `d${i}` });
    await waitFor('4 handlers running', () => recorder.handled.length === 4);

    await c.app.close();
    expect(finished).toBe(4);
    await c.nc.flush();
    await consumerIdle();
  });

  it('hands a raw NATS PUB (the bytes of `nats pub`) to the handler', async () => {
    await start('a');
    await rawNatsPublish(url, naming.subject('table.loaded'), '{"client_id":1,"integration_name":"shopify","table_name":"orders","num_rows":100}');

    await waitFor('the raw event', () => recorder.handled.length === 1);
    expect(recorder.handled[0].event).toMatchObject({ client_id: 1, integration_name: 'shopify', table_name: 'orders', num_rows: 100 });
    // No event_id and no Nats-Msg-Id: the id is stream name + sequence + the time the stream stored it (SPEC §4).
    expect(recorder.handled[0].eventId).toMatch(new RegExp(`^${naming.stream('LOADS')}-1-\\d+$`));
  });

  it('provisions streams idempotently', async () => {
    await provisionStreams(jsm, naming, 1, testStreamLimits());
    await provisionStreams(jsm, naming, 1, testStreamLimits());
    const names: string[] = [];
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(naming.stream(''))) names.push(s.config.name);
    expect(names.sort()).toEqual(['DEADLETTER', 'DELIVERIES', 'INGEST', 'LOADS', 'NOTIFY', 'REGISTRY'].map((s) => naming.stream(s)));
  });
});
