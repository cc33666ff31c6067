import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeadLetterHeaders, Subjects } from '@posthooks/contracts';
import { rawNatsPublish, streamMessages, waitFor } from '@posthooks/testing';
import { JetStreamManager, NatsConnection } from 'nats';
import { EventPublisher, NatsNaming } from '../src';
import { freshNamespace, loadEvent, Recorder, startConsumer, stopConsumer } from './harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', '..', 'tools', 'deadletter.mjs');

/**
 * `npm run deadletter -- list|replay` as an operator runs it (a process, NATS_URL and
 * NATS_NAMESPACE from the environment), against dead letters a real consumer made.
 */
describe('tools/deadletter.mjs', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let url: string;
  let consumer: Awaited<ReturnType<typeof startConsumer>>;
  const recorder = new Recorder();

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, NATS_URL: url, NATS_NAMESPACE: naming.namespace } }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    return { code: 'code' in result ? result.code : 0, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    ({ nc, jsm, naming, url } = await freshNamespace('deadletter_cli'));
    // Until "the operator fixes it", the handler refuses the tables named missing-*.
    let fixed = false;
    recorder.behaviour = (h, ctx) => {
      if (h.event.table_name.startsWith('missing-') && !fixed) ctx.deadLetter(`destination of ${h.event.table_name} does not exist`);
    };
    consumer = await startConsumer('a', naming, recorder, { concurrency: 1 });
    await rawNatsPublish(url, naming.subject(Subjects.TableLoaded), 'this is not json');
    await rawNatsPublish(url, naming.subject(Subjects.TableLoaded), '{"client_id":1,"integration_name":"shopify","table_name":"missing-1"}');
    await rawNatsPublish(url, naming.subject(Subjects.TableRejected), '{"client_id":1,"integration_name":"shopify","table_name":"missing-2"}');
    // One with a Nats-Msg-Id, which a replay publishes under again.
    await new EventPublisher(nc.jetstream(), naming).publish(Subjects.TableLoaded, loadEvent('missing-3'), { msgId: 'original-id-3' });
    await waitFor('4 dead letters', async () => (await jsm.streams.info(naming.stream('DEADLETTER'))).state.messages === 4);
    fixed = true;
  });

  afterAll(async () => {
    await stopConsumer(consumer);
    await nc.close();
  });

  it('lists every dead letter with its sequence, original subject, reason, time and a short body', async () => {
    const { code, stdout } = await cli('list');
    expect(code).toBe(0);
    expect(stdout).toContain(`#1  `);
    expect(stdout).toMatch(/#1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}table\.loaded \(\w+_LOADS #1\)\n {4}reason: not JSON: .*\n {4}body: {3}this is not json/);
    expect(stdout).toMatch(/#3 .* table\.rejected \(\w+_LOADS #3\)\n {4}reason: destination of missing-2 does not exist\n {4}body: {3}\{"client_id":1,"integration_name":"shopify","table_name":"mi… \(\d+ bytes\)/);
    expect(stdout).toContain('4 dead letters');
  });

  it('lists those of one original subject', async () => {
    const { stdout } = await cli('list', 'table.rejected');
    expect(stdout.match(/^#\d+/gm)).toEqual(['#3']);
    expect((await cli('list', 'hook.gone')).stdout).toContain('no dead letters for hook.gone');
  });

  it('replays one by sequence to its original subject, where the consumer now takes it, and deletes it from DEADLETTER', async () => {
    const { code, stdout } = await cli('replay', '2');
    expect(code).toBe(0);
    expect(stdout).toMatch(/#2 replayed to table\.loaded \(\w+_LOADS #\d+\); deleted from \w+_DEADLETTER/);
    await waitFor('the replayed event handled', () => recorder.handled.some((h) => h.event.table_name === 'missing-1' && h.deliveryCount === 1 && recorder.handled.filter((x) => x.event.table_name === 'missing-1').length === 2));
    // LOADS is a work queue: the handled copy is gone from it, so its header is read where it was handled.
    const replayed = recorder.handled.filter((h) => h.event.table_name === 'missing-1').pop();
    expect(replayed?.replayedFrom).toBe(`${naming.stream('DEADLETTER')} #2`);
    expect((await cli('list')).stdout.match(/^#\d+/gm)).toEqual(['#1', '#3', '#4']);
  });

  it('replays all of a subject; one whose original id is still in the de-duplication window is kept, and it says so', async () => {
    const { code, stdout, stderr } = await cli('replay', 'table.*');
    expect(code).toBe(1);
    // The not-JSON one is re-published as it is: the consumer dead-letters it again, with a new sequence.
    expect(stdout).toMatch(/#1 replayed to table\.loaded/);
    expect(stdout).toMatch(/#3 replayed to table\.rejected/);
    expect(stderr).toMatch(/#4 not replayed: \w+_LOADS still holds its Nats-Msg-Id original-id-3/);
    await waitFor('missing-2 handled after its replay', () => recorder.handled.filter((h) => h.event.table_name === 'missing-2').length === 2);
    const parked = await waitFor('the not-JSON one parked again', async () => {
      const all = await streamMessages(jsm, naming.namespace, 'DEADLETTER');
      return all.length === 2 && all;
    });
    expect(parked.map((m) => [m.seq, m.header.get(DeadLetterHeaders.OriginalSubject)])).toEqual([
      [4, 'table.loaded'],
      [5, 'table.loaded'],
    ]);
    expect(parked[0].header.get(DeadLetterHeaders.OriginalMsgId)).toBe('original-id-3');
  });

  it('refuses a bad command and an unknown sequence', async () => {
    expect((await cli('purge')).code).toBe(2);
    expect((await cli('replay')).code).toBe(2);
    const unknown = await cli('replay', '999');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no dead letters for 999');
  });
});
