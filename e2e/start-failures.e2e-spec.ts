import { freePort, PrivateNatsServer, testEnv, waitFor } from '@posthooks/testing';
import { ServiceProcess } from './support/service-process';

/** What an operator sees when a dependency is missing or a setting is wrong. */
describe('starting without what a service needs', () => {
  const env = testEnv('failures');

  it('exits non-zero naming the NATS URL and how to start NATS', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const s = await ServiceProcess.spawn('dispatcher', { ...env, NATS_URL: url });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(s.output).toContain(`NATS is not reachable at ${url}`);
    expect(s.output).toContain('nats-server');
  });

  it('exits non-zero naming the Postgres URL (without its password) and how to start Postgres', async () => {
    const port = await freePort();
    const s = await ServiceProcess.spawn('hook-registry', { ...env, DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/posthooks` });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(s.output).toContain(`127.0.0.1:${port}/posthooks`);
    expect(s.output).toContain('pg_ctlcluster');
    expect(s.output).not.toContain('hunter2');
  });

  it('refuses a bad setting before starting, naming the variable', async () => {
    const s = await ServiceProcess.spawn('email-notifier', { ...env, PORT: '0', NATS_STREAM_REPLICAS: 'three' });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(s.output).toContain('NATS_STREAM_REPLICAS');
  });

  it('reports not ready (503) while NATS is down, and ready again once it is back', async () => {
    const nats = await PrivateNatsServer.start();
    const s = await ServiceProcess.spawn('load-simulator', { ...env, NATS_URL: nats.url });
    try {
      await s.ready();
      await nats.stop();
      await waitFor('readiness to fail', async () => (await fetch(`${s.url}/health/ready`)).status === 503);
      const down = await (await fetch(`${s.url}/health/ready`)).json();
      expect(down).toMatchObject({ status: 'error', error: { nats: { status: 'down' } } });
      expect((await fetch(`${s.url}/health/live`)).status).toBe(200);

      await nats.restart();
      await waitFor('readiness to come back', async () => (await fetch(`${s.url}/health/ready`)).status === 200, { timeoutMs: 15_000 });
    } finally {
      await s.stop();
      await nats.dispose();
    }
  });
});
