import { Controller, DynamicModule, INestApplication, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ServiceEnv } from '@posthooks/config';
import { LoadEvent, Subjects } from '@posthooks/contracts';
import { EventPublisher, JetStreamContext, MessagingModule, messageFailures, messagesHandled } from '@posthooks/messaging';
import { freePort, testEnv, testStreamLimits, waitFor } from '@posthooks/testing';
import { Client } from 'pg';
import { createServiceApp } from '../src';

/**
 * How every service wires its consumers (createServiceApp): a handler's error must reach
 * the transport as thrown, or an outage cannot be told from a bug. It did not: Nest bound
 * the handlers' filters before the transport's filter was in, so every error arrived as
 * "Internal server error" and a Postgres outage was dead-lettered after the horizon.
 */
describe('createServiceApp consumers', () => {
  let app: INestApplication;
  const deliveries: number[] = [];
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort();
    const env = Object.assign(new ServiceEnv(), { ...testEnv('runtime_failures'), PORT: 0, LOG_LEVEL: 'error', DEADLETTER_AFTER_MS: 1000, MESSAGE_RETRY_BASE_MS: 20, MESSAGE_RETRY_MAX_MS: 100 });

    @Controller()
    class OutageController {
      @EventPattern(Subjects.TableLoaded)
      async loaded(@Payload() _event: LoadEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
        deliveries.push(Date.now());
        // Postgres "down" for the first 1.5 s: a real refused connection from the pg driver.
        if (Date.now() - deliveries[0] < 1500) await new Client({ host: '127.0.0.1', port: closedPort, user: 'postgres' }).connect();
        void ctx;
      }
    }
    @Module({})
    class TestModule {
      static forRoot(): DynamicModule {
        return { module: TestModule, imports: [MessagingModule.forRoot({ url: env.NATS_URL, namespace: env.NATS_NAMESPACE, replicas: 1, name: 'runtime-test', streamMaxBytes: testStreamLimits() })], controllers: [OutageController] };
      }
    }
    app = await createServiceApp({ name: 'runtime-test', env: ServiceEnv, module: () => TestModule.forRoot(), consumers: () => [{ stream: 'LOADS', durable: 'runtime-test' }] }, env);
  });

  afterAll(() => app?.close());

  it('retries a handler that cannot reach Postgres past the dead-letter horizon, then acks it', async () => {
    await app.get(EventPublisher).publish(Subjects.TableLoaded, Object.assign(new LoadEvent(), { client_id: 1, integration_name: 'a', table_name: 'b' }), { msgId: 'outage-1' });
    await waitFor('the delivery after the outage', async () => (await messageFailures.get()).values.some((v) => v.labels.kind === 'outage') && deliveries.length > 0 && deliveries[deliveries.length - 1] - deliveries[0] >= 1500, { timeoutMs: 15_000 });
    const failures = (await messageFailures.get()).values.filter((v) => v.labels.consumer === 'runtime-test');
    expect(failures.map((v) => v.labels.kind)).toEqual(['outage']);
    const handled = messagesHandled;
    await waitFor('the ack', async () => (await handled.get()).values.some((v) => v.labels.consumer === 'runtime-test' && v.labels.outcome === 'ack'));
    expect((await handled.get()).values.filter((v) => v.labels.consumer === 'runtime-test' && v.labels.outcome === 'deadletter')).toEqual([]);
  });
});
