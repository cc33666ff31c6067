import { INestApplication } from '@nestjs/common';
import { LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { IngestRecordsEvent, LoadEvent, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming } from '@posthooks/messaging';
import { createServiceApp } from '@posthooks/runtime';
import { streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { randomUUID } from 'node:crypto';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { Client } from 'pg';
import { IntegrationLoads } from '../src/loading/integration-loads';
import { builtInDestination } from './destination-fixture';
import { loadSimulator } from '../src/service';

/** SPEC §7 loading: ingested records into `<integration>_<id>.data` of the destination's database (a message without `schema`, as an older gateway sent), one event per flush. */
describe('loading ingested records', () => {
  let app: INestApplication;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let publisher: EventPublisher;
  let pg: Client;
  let nextIntegration = 1;

  beforeAll(async () => {
    const env = loadEnv(LoadSimulatorEnv, { ...testEnv('loading'), NODE_ENV: 'test', LOG_LEVEL: 'error', LOAD_INTERVAL_MS: '200' });
    app = await createServiceApp(loadSimulator, env);
    nc = await connect({ servers: env.NATS_URL });
    jsm = await nc.jetstreamManager();
    naming = new NatsNaming(env.NATS_NAMESPACE);
    publisher = new EventPublisher(nc.jetstream(), naming);
    // Destination 3 on the built-in database: the rows land there, not in the services' database.
    pg = await builtInDestination(app, env, 3);
  });
  afterAll(async () => {
    await app.close();
    await nc.close();
    await pg.end();
  });

  const integration = (primaryKey?: string) => ({ id: nextIntegration++, name: 'shop', primaryKey, schema: '' });

  async function ingest(i: { id: number; name: string; primaryKey?: string }, records: Record<string, unknown>[], requestId = randomUUID(), part = 0, msgId = `${requestId}-${part}`): Promise<void> {
    const event: IngestRecordsEvent = Object.assign(new IngestRecordsEvent(), {
      integration_id: i.id,
      client_id: 7,
      destination_id: 3,
      integration_name: i.name,
      ...(i.primaryKey ? { primary_key: i.primaryKey } : {}),
      request_id: requestId,
      part,
      received_at: new Date().toISOString(),
      records,
    });
    await publisher.publish(Subjects.IngestRecords, event, { msgId });
  }

  /** The load events for an integration so far, from the LOADS stream. */
  async function loadEvents(i: { id: number; name: string }): Promise<(LoadEvent & { subject: string })[]> {
    const messages = await streamMessages(jsm, naming.namespace, 'LOADS');
    return messages.map((m) => ({ ...m.json<LoadEvent>(), subject: naming.logical(m.subject)! })).filter((e) => e.event_id?.startsWith(`load-${i.id}-`));
  }

  const rows = async (i: { id: number; name: string }, table = 'data', order = '_sdc_sequence') => (await pg.query(`SELECT * FROM "${i.name}_${i.id}"."${table}" ORDER BY ${order}`)).rows;
  const columns = async (i: { id: number; name: string }) =>
    Object.fromEntries((await pg.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'data'`, [`${i.name}_${i.id}`])).rows.map((r) => [r.column_name, r.data_type]));

  it('creates the schema and table with a column per field, nested values as jsonb, and the _sdc columns', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1, name: 'Ada', total: 9.5, paid: true, address: { city: 'Paris' }, tags: ['a'] }]);
    const [event] = await waitFor('the load event', async () => {
      const e = await loadEvents(i);
      return e.length > 0 && e;
    });
    expect(event).toMatchObject({ subject: 'table.loaded', client_id: 7, destination_id: 3, integration_name: 'shop', table_name: 'data', num_rows: 1, num_rows_rejected: 0 });
    expect(await columns(i)).toEqual({
      id: 'numeric',
      name: 'text',
      total: 'numeric',
      paid: 'boolean',
      address: 'jsonb',
      tags: 'jsonb',
      _sdc_received_at: 'timestamp with time zone',
      _sdc_batched_at: 'timestamp with time zone',
      _sdc_sequence: 'bigint',
      _sdc_table_version: 'bigint',
    });
    expect(await rows(i)).toEqual([expect.objectContaining({ id: '1', name: 'Ada', total: '9.5', paid: true, address: { city: 'Paris' }, tags: ['a'], _sdc_table_version: '0' })]);
  });

  it('announces load.started before each flush writes, once per flush, before its load event', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1 }, { id: 2 }]);
    await waitFor('the load event', async () => (await loadEvents(i)).length > 0);
    const messages = (await streamMessages(jsm, naming.namespace, 'LOADS')).map((m) => ({ seq: m.seq, subject: naming.logical(m.subject), event: m.json<LoadEvent & { started_at?: string }>() }));
    const started = messages.filter((m) => m.subject === Subjects.LoadStarted && m.event.event_id?.startsWith(`started-${i.id}-`));
    const loaded = messages.filter((m) => m.event.event_id?.startsWith(`load-${i.id}-`));
    expect(started).toHaveLength(1);
    expect(started[0].event).toMatchObject({ client_id: 7, destination_id: 3, integration_name: 'shop', table_name: 'data', started_at: expect.any(String) });
    // The same flush: the start's id names the same content as the load's.
    expect(started[0].event.event_id!.slice('started-'.length)).toBe(loaded[0].event.event_id!.slice('load-'.length));
    expect(started[0].seq).toBeLessThan(loaded[0].seq);
  });

  it('keeps integers and decimals of one field in one numeric column', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1, amount: 0 }, { id: 2, amount: 1.5 }, { id: 3, amount: 2 ** 60 }]);
    const [event] = await waitFor('the load', async () => {
      const e = await loadEvents(i);
      return e.length > 0 && e;
    });
    expect(event).toMatchObject({ num_rows: 3, num_rows_rejected: 0 });
    expect((await rows(i, 'data', 'id')).map((r) => r.amount)).toEqual(['0', '1.5', String(2 ** 60)]);
  });

  it('adds a column for a new field', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1, a: 'x' }]);
    await waitFor('first load', async () => (await loadEvents(i)).length === 1);
    await ingest(i, [{ id: 2, a: 'y', b: 42 }]);
    await waitFor('second load', async () => (await loadEvents(i)).length === 2);
    expect(await columns(i)).toMatchObject({ a: 'text', b: 'numeric' });
    expect((await rows(i)).map((r) => [r.id, r.a, r.b])).toEqual([
      ['1', 'x', null],
      ['2', 'y', '42'],
    ]);
  });

  it('upserts the same key twice into one row with the latest values', async () => {
    const i = integration('sku');
    await ingest(i, [{ sku: 'A-1', qty: 1 }]);
    await waitFor('first load', async () => (await loadEvents(i)).length === 1);
    await ingest(i, [{ sku: 'A-1', qty: 5 }, { sku: 'B-2', qty: 2 }, { sku: 'B-2', qty: 3 }]);
    await waitFor('second load', async () => (await loadEvents(i)).length === 2);
    expect((await rows(i, 'data', 'sku')).map((r) => [r.sku, r.qty])).toEqual([
      ['A-1', '5'],
      ['B-2', '3'],
    ]);
  });

  it('rejects a record without its key, or with a value its column cannot hold, and loads the rest', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1, amount: 10 }]);
    await waitFor('first load', async () => (await loadEvents(i)).length === 1);
    await ingest(i, [{ id: 2, amount: 'ten' }, { amount: 3 }, { id: 3, amount: 30 }]);
    const events = await waitFor('second load', async () => {
      const e = await loadEvents(i);
      return e.length === 2 && e;
    });
    expect(events[1]).toMatchObject({ subject: 'table.loaded', num_rows: 1, num_rows_rejected: 2 });
    expect((await rows(i)).map((r) => r.id)).toEqual(['1', '3']);
    const rejected = await rows(i, '_sdc_rejected', 'rejected_at, source');
    expect(rejected.map((r) => [r.record, r.reason, r.table_name])).toEqual(
      expect.arrayContaining([
        [{ id: 2, amount: 'ten' }, expect.stringContaining('"amount" is "ten", which does not fit its column of type numeric'), 'data'],
        [{ amount: 3 }, 'missing primary key "id"', 'data'],
      ]),
    );
  });

  it('checks a batch against the columns the table really has when another loader changed them', async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1, a: 'x' }]);
    await waitFor('first load', async () => (await loadEvents(i)).length === 1);
    // Another replica added `b` as numeric: this loader has not seen that column.
    await pg.query(`ALTER TABLE "${i.name}_${i.id}".data ADD COLUMN b numeric`);
    await ingest(i, [{ id: 2, b: 'text' }, { id: 3, b: 7 }]);
    const events = await waitFor('second load', async () => {
      const e = await loadEvents(i);
      return e.length === 2 && e;
    });
    expect(events[1]).toMatchObject({ subject: 'table.loaded', num_rows: 1, num_rows_rejected: 1 });
    expect(await columns(i)).toMatchObject({ b: 'numeric' });
    expect((await rows(i, 'data', 'id')).map((r) => [r.id, r.b])).toEqual([
      ['1', null],
      ['3', '7'],
    ]);
  });

  it('announces table.rejected when every record of the flush was rejected', async () => {
    const i = integration('id');
    await ingest(i, [{ name: 'no key' }, { name: 'none either' }]);
    const [event] = await waitFor('the event', async () => {
      const e = await loadEvents(i);
      return e.length > 0 && e;
    });
    expect(event).toMatchObject({ subject: 'table.rejected', num_rows: 0, num_rows_rejected: 2, error_message: expect.stringContaining('missing primary key "id"') });
  });

  it('appends records without a primary key under a generated __sdc_primary_key, once even if the message comes twice', async () => {
    const i = integration();
    const requestId = randomUUID();
    await ingest(i, [{ v: 1 }, { v: 2 }], requestId, 0, 'first-copy');
    await waitFor('first load', async () => (await loadEvents(i)).length === 1);
    // The same records again (as after a crash before the ack), under another message id.
    await ingest(i, [{ v: 1 }, { v: 2 }], requestId, 0, 'second-copy');
    await waitFor('second flush', async () => (await pg.query(`SELECT count(*)::int AS n FROM "${i.name}_${i.id}".data`)).rows[0].n === 2 && (await loadEvents(i)).length >= 1);
    await ingest(i, [{ v: 3 }]);
    await waitFor('third load', async () => (await rows(i)).length === 3);
    const r = await rows(i);
    expect(r.map((x) => x.v)).toEqual(['1', '2', '3']);
    expect(r[0].__sdc_primary_key).toBe(`${requestId}:0:0`);
  });

  it('batches records of one integration into one flush and one event', async () => {
    const i = integration('id');
    await Promise.all(Array.from({ length: 20 }, (_, n) => ingest(i, [{ id: n }])));
    const events = await waitFor('the load', async () => {
      const e = await loadEvents(i);
      return e.reduce((s, x) => s + (x.num_rows ?? 0), 0) === 20 && e;
    });
    expect(events.length).toBeLessThanOrEqual(2);
    expect(await rows(i)).toHaveLength(20);
  });

  it("adds each flush's loaded and rejected rows to the integration's figures, with the last load time, for the account's key only", async () => {
    const i = integration('id');
    await ingest(i, [{ id: 1 }, { id: 2 }, { name: 'no key' }]);
    await waitFor('the first flush', async () => (await loadEvents(i)).length === 1);
    await ingest(i, [{ id: 3 }]);
    await waitFor('the second flush', async () => (await loadEvents(i)).length === 2);
    const loads = app.get(IntegrationLoads);
    const figures = await waitFor('both flushes recorded', async () => {
      const mine = (await loads.list(7)).find((l) => l.integration_id === i.id);
      return mine?.rows_loaded === 3 && mine;
    });
    expect(figures).toMatchObject({ integration_id: i.id, rows_loaded: 3, rows_rejected: 1 });
    expect(Date.now() - Date.parse(figures.last_loaded_at)).toBeLessThan(60_000);
    // Another account sees none of them.
    expect((await loads.list(8)).some((l) => l.integration_id === i.id)).toBe(false);
  });
});
