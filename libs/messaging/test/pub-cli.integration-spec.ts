import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Subjects } from '@posthooks/contracts';
import { freePort, streamMessages } from '@posthooks/testing';
import { JetStreamManager, NatsConnection } from 'nats';
import { NatsNaming } from '../src';
import { freshNamespace } from './harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', '..', 'tools', 'pub.mjs');

/** `npm run pub`, the walk-through's `nats pub` for machines without the NATS CLI, run as a newcomer runs it. */
describe('tools/pub.mjs', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let url: string;

  const pub = async (args: string[], natsUrl = url) => {
    const result = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, NATS_URL: natsUrl, NATS_NAMESPACE: naming.namespace } }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    return { code: 'code' in result ? result.code : 0, stdout: result.stdout, stderr: result.stderr };
  };
  const stored = async (subject: string) => (await streamMessages(jsm, naming.namespace, 'LOADS', subject)).map((m) => ({ body: m.string(), msgId: m.header?.get('Nats-Msg-Id') || undefined }));

  beforeAll(async () => {
    ({ nc, jsm, naming, url } = await freshNamespace('pub_cli'));
  });
  afterAll(() => nc.close());

  it('publishes the body as given to the subject, where LOADS stores it', async () => {
    const body = '{"client_id":1,"integration_name":"shopify","table_name":"orders","num_rows":100}';
    const out = await pub([Subjects.TableLoaded, body]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toContain(`Published ${body.length} bytes to "${naming.subject(Subjects.TableLoaded)}"`);
    expect(await stored(Subjects.TableLoaded)).toEqual([{ body, msgId: undefined }]);
  });

  it('sends --id as Nats-Msg-Id, so the stream keeps one of two publishes under it', async () => {
    const body = '{"client_id":1,"integration_name":"shopify","table_name":"orders"}';
    expect((await pub([Subjects.LoadStarted, body, '--id', 'run-42'])).code).toBe(0);
    expect((await pub(['--id', 'run-42', Subjects.LoadStarted, body])).code).toBe(0);
    expect(await stored(Subjects.LoadStarted)).toEqual([{ body, msgId: 'run-42' }]);
  });

  it('sends a body that is not JSON (as nats pub would), with a warning', async () => {
    const out = await pub([Subjects.TableRejected, 'not json']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('not JSON');
    expect(await stored(Subjects.TableRejected)).toEqual([{ body: 'not json', msgId: undefined }]);
  });

  it('says how to use it, and names an unreachable server without its credentials', async () => {
    expect(await pub([Subjects.TableLoaded])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: npm run pub') });
    expect(await pub(['table.*', '{}'])).toMatchObject({ code: 2, stderr: expect.stringContaining('not a subject to publish to') });
    expect(await pub([Subjects.TableLoaded, '{}', '--id'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--id needs a value') });
    const down = `nats://ops:hunter2@127.0.0.1:${await freePort()}`;
    const out = await pub([Subjects.TableLoaded, '{}'], down);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('NATS is not reachable at nats://***@127.0.0.1:');
    expect(out.stderr).not.toContain('hunter2');
  });
});
