import { INestApplication } from '@nestjs/common';
import { LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { DeadLetterHeaders, IngestRecordsEvent, Streams, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming, openIngestRecordStore } from '@posthooks/messaging';
import { createServiceApp } from '@posthooks/runtime';
import { streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection, ObjectStore } from 'nats';
import { Client } from 'pg';
import { builtInDestination } from './destination-fixture';
import { loadSimulator } from '../src/service';

/**
 * Records by reference (record-refs.ts) in the load-simulator as it runs: a record read
 * from the INGEST_RECORDS object store is loaded and then deleted; a message naming a
 * record that is gone or is not a record is dead-lettered through its context at once
 * (its reason, not a horizon's "failed for"), and acknowledged.
 */
describe('loading records that travel by reference', () => {
  let app: INestApplication;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let publisher: EventPublisher;
  let store: ObjectStore;
  let pg: Client;

  beforeAll(async () => {
    const env = loadEnv(LoadSimulatorEnv, { ...testEnv('record_refs'), NODE_ENV: 'test', LOG_LEVEL: 'error', LOAD_INTERVAL_MS: '100' });
    app = await createServiceApp(loadSimulator, env);
    nc = await connect({ servers: env.NATS_URL });
    jsm = await nc.jetstreamManager();
    naming = new NatsNaming(env.NATS_NAMESPACE);
    publisher = new EventPublisher(nc.jetstream(), naming);
    store = await openIngestRecordStore(nc.jetstream(), naming, 1);
    pg = await builtInDestination(app, env, 3);
  });
  afterAll(async () => {
    await app.close();
    await nc.close();
    await pg.end();
  });

  const ingest = (integrationId: number, records: Record<string, unknown>[], refs: string[]) =>
    publisher.publish(
      Subjects.IngestRecords,
      Object.assign(new IngestRecordsEvent(), { integration_id: integrationId, client_id: 7, destination_id: 3, integration_name: 'refs', primary_key: 'id', request_id: `req-${integrationId}`, part: 0, received_at: new Date().toISOString(), records, record_refs: refs }),
      { msgId: `req-${integrationId}-0` },
    );
  const rows = async (integrationId: number) => (await pg.query(`SELECT count(*)::int AS n FROM refs_${integrationId}.data`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n as number;
  const ingestIdle = () =>
    waitFor('INGEST to have nothing pending or unacked', async () => {
      const info = await jsm.consumers.info(naming.stream(Streams.INGEST.name), 'load-simulator');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });

  it('loads a record read from the object store with the message\'s own, then deletes it', async () => {
    await store.putBlob({ name: 'ref-good' }, Buffer.from(JSON.stringify({ id: 2, big: 'x'.repeat(10_000) })));
    await ingest(801, [{ id: 1 }], ['ref-good']);

    await waitFor('both records loaded', async () => (await rows(801)) === 2);
    await waitFor('the stored record deleted once the message was acked', async () => {
      const info = await store.info('ref-good');
      return info === null || info.deleted;
    });
    await ingestIdle();
  });

  it('dead-letters a message whose record is gone, or is not a JSON object, with the reason, acks it and loads nothing of it', async () => {
    await store.putBlob({ name: 'ref-array' }, Buffer.from('[1,2]'));
    await ingest(802, [{ id: 1 }], ['ref-missing']);
    await ingest(803, [{ id: 1 }], ['ref-array']);

    const parked = await waitFor('both messages in DEADLETTER', async () => {
      const messages = await streamMessages(jsm, naming.namespace, 'DEADLETTER');
      return messages.length === 2 && messages;
    });
    const reasons = Object.fromEntries(parked.map((m) => [m.json<IngestRecordsEvent>().integration_id, m.header.get(DeadLetterHeaders.Reason)]));
    expect(reasons).toEqual({
      802: 'record ref-missing is not in the object store of large records',
      803: 'record ref-array in the object store of large records is not a JSON object',
    });
    await ingestIdle();
    expect([await rows(802), await rows(803)]).toEqual([0, 0]);
  });
});
