import { connect, NatsConnection } from 'nats';

// The run's own teardown, called here for a made-up run id so it only removes what this test made.
const globalTeardown = require('../src/jest/global-teardown.js') as () => Promise<void>;

/**
 * The teardown must remove every stream of its run however many streams the server
 * holds: it once deleted while paging through the list and left a third of them behind
 * (90 of 300), whose reserved bytes piled up until nats-server refused new streams.
 */
describe('the test run teardown', () => {
  let nc: NatsConnection;
  const saved = { run: process.env.POSTHOOKS_TEST_RUN, tls: process.env.POSTHOOKS_TEST_TLS_DIR };
  const run = `zzteardown${process.pid}`;
  const prefix = `T${run}`.toUpperCase();
  beforeAll(async () => {
    nc = await connect({ servers: process.env.NATS_URL });
  });
  const restore = () => {
    for (const [key, value] of [['POSTHOOKS_TEST_RUN', saved.run], ['POSTHOOKS_TEST_TLS_DIR', saved.tls]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  afterAll(async () => {
    restore();
    await nc.close();
  });

  it('removes all 300 streams of its run, more than one page of the server list', async () => {
    const jsm = await nc.jetstreamManager();
    for (let i = 0; i < 300; i++) await jsm.streams.add({ name: `${prefix}_S${i}`, subjects: [`${prefix.toLowerCase()}.s${i}`], max_bytes: 64 * 1024 });
    process.env.POSTHOOKS_TEST_RUN = run;
    delete process.env.POSTHOOKS_TEST_TLS_DIR; // the real run's certificates stay
    await globalTeardown();
    restore();
    const left: string[] = [];
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(prefix)) left.push(s.config.name);
    expect(left).toEqual([]);
  });
});
