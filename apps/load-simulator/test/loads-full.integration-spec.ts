import { INestApplication } from '@nestjs/common';
import { LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { IngestRecordsEvent, LoadEvent, Streams, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming, StreamFull } from '@posthooks/messaging';
import { createServiceApp } from '@posthooks/runtime';
import { testEnv, waitFor } from '@posthooks/testing';
import { AckPolicy, connect } from 'nats';
import { builtInDestination } from './destination-fixture';
import { loadSimulator } from '../src/service';

const MiB = 1024 * 1024;

/**
 * A full LOADS (discard new) refuses the loader's table.loaded: the flush's INGEST
 * messages are retried later, not acknowledged and not dead-lettered, and once the
 * dispatcher's side makes room every record is loaded and every event published.
 */
describe('the load-simulator on a full LOADS', () => {
  it('retries its flush until LOADS has room: no record and no event lost', async () => {
    const env = loadEnv(LoadSimulatorEnv, { ...testEnv('loads_full'), NODE_ENV: 'test', LOG_LEVEL: 'error', LOAD_INTERVAL_MS: '100', STREAM_MAX_BYTES_LOADS: String(MiB) });
    const app: INestApplication = await createServiceApp(loadSimulator, env);
    const nc = await connect({ servers: env.NATS_URL });
    const pg = await builtInDestination(app, env, 3);
    try {
      const jsm = await nc.jetstreamManager();
      const naming = new NatsNaming(env.NATS_NAMESPACE);
      const publisher = new EventPublisher(nc.jetstream(), naming);
      const loads = naming.stream(Streams.LOADS.name);

      // LOADS filled by load events nobody has consumed yet: large ones, then small ones
      // to the last byte (a small event fits where a large one no longer does).
      let filler = 0;
      for (const pad of [32 * 1024, 0]) {
        for (;;) {
          const event = Object.assign(new LoadEvent(), { client_id: 1, integration_name: 'filler', table_name: 't', event_id: `f${filler}`, ...(pad ? { bookmark_metadata: { pad: 'x'.repeat(pad) } } : {}) });
          const full = await publisher.publish(Subjects.TableLoaded, event, { msgId: `f${filler}` }).then(
            () => false,
            (err: unknown) => {
              if (err instanceof StreamFull) return true;
              throw err;
            },
          );
          if (full) break;
          filler++;
        }
      }

      const records = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `r${i}` }));
      const event = Object.assign(new IngestRecordsEvent(), { integration_id: 901, client_id: 7, destination_id: 3, integration_name: 'full', primary_key: 'id', request_id: 'req-full', part: 0, received_at: new Date().toISOString(), records });
      await publisher.publish(Subjects.IngestRecords, event, { msgId: 'req-full-0' });

      // The flush loads the rows (a start it cannot announce does not stop it), cannot announce
      // them, and keeps its INGEST message.
      await waitFor('the rows to be written', async () => (await pg.query('SELECT count(*)::int AS n FROM full_901.data').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n === 50);
      const ingest = naming.stream(Streams.INGEST.name);
      await waitFor('the INGEST message to be retried at least once', async () => (await jsm.consumers.info(ingest, 'load-simulator')).num_redelivered > 0, { timeoutMs: 20_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await jsm.consumers.info(ingest, 'load-simulator'))}`);
      });
      expect((await jsm.streams.info(ingest)).state.messages).toBe(1);
      expect((await jsm.streams.info(naming.stream(Streams.DEADLETTER.name))).state.messages).toBe(0);

      // The dispatcher's side takes the fillers: LOADS has room, the retried flush announces.
      await jsm.consumers.add(loads, { durable_name: 'dispatcher', ack_policy: AckPolicy.Explicit });
      const consumer = await nc.jetstream().consumers.get(loads, 'dispatcher');
      const announced: (LoadEvent & { subject: string })[] = [];
      await waitFor(
        'the load event of the retried flush',
        async () => {
          for await (const m of await consumer.fetch({ max_messages: 100, expires: 1000 })) {
            const e = m.json<LoadEvent>();
            if (e.integration_name === 'full') announced.push({ ...e, subject: naming.logical(m.subject)! });
            await m.ackAck();
          }
          return announced.some((e) => e.subject === Subjects.TableLoaded);
        },
        { timeoutMs: 30_000 },
      );
      // The retried flush announces its start (which LOADS had no room for either), then its load.
      expect(announced.map((e) => e.subject)).toEqual([Subjects.LoadStarted, Subjects.TableLoaded]);
      expect(announced[1]).toMatchObject({ integration_name: 'full', num_rows: 50, client_id: 7 });
      await waitFor('INGEST to be empty (acknowledged after the announce)', async () => (await jsm.streams.info(ingest)).state.messages === 0, { timeoutMs: 20_000 });
      expect((await pg.query('SELECT count(*)::int AS n FROM full_901.data')).rows[0].n).toBe(50);
      expect((await jsm.streams.info(naming.stream(Streams.DEADLETTER.name))).state.messages).toBe(0);
    } finally {
      await app.close();
      await nc.close();
      await pg.end();
    }
  });
});
