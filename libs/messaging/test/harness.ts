import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { LoadEvent, Subjects } from '@posthooks/contracts';
import { testEnv, testStreamLimits } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { ConsumerOptions, JetStreamContext, JetStreamExceptionFilter, JetStreamTransport, NatsNaming, provisionStreams } from '../src';

export interface Handled {
  instance: string;
  event: LoadEvent;
  deliveryCount: number;
  eventId: string;
  at: number;
  /** Where a replayed message came from (tools/deadletter.mjs), if it was replayed. */
  replayedFrom?: string;
}

/** What every test handler does: record the call, then behave as the test says. */
export class Recorder {
  readonly handled: Handled[] = [];
  /** Gets the context to settle the message through (ctx.retryIn, ctx.deadLetter). */
  behaviour: (h: Handled, ctx: JetStreamContext) => unknown = () => undefined;

  tables(): string[] {
    return this.handled.map((h) => h.event.table_name);
  }
}

/**
 * Each test gets its own namespace, hence its own streams. `file` keeps test files apart:
 * Jest runs several in one worker process, each with its own counter.
 */
let counter = 0;
export async function freshNamespace(file = 'messaging'): Promise<{ nc: NatsConnection; jsm: JetStreamManager; naming: NatsNaming; url: string }> {
  const env = testEnv(`${file}_${process.pid}_${counter++}`);
  const nc = await connect({ servers: env.NATS_URL });
  const jsm = await nc.jetstreamManager();
  const naming = new NatsNaming(env.NATS_NAMESPACE);
  await provisionStreams(jsm, naming, 1, testStreamLimits());
  return { nc, jsm, naming, url: env.NATS_URL };
}

export async function startConsumer(
  instance: string,
  naming: NatsNaming,
  recorder: Recorder,
  consumer: Partial<ConsumerOptions> = {},
  drainTimeoutMs = 2000,
): Promise<{ app: INestMicroservice; nc: NatsConnection }> {
  @Controller()
  class LoadsController {
    @EventPattern([Subjects.TableLoaded, Subjects.TableRejected])
    async onLoaded(@Payload() event: LoadEvent, @Ctx() ctx: JetStreamContext): Promise<unknown> {
      const h = { instance, event, deliveryCount: ctx.deliveryCount, eventId: event.event_id ?? ctx.fallbackEventId, at: Date.now(), replayedFrom: ctx.message.headers?.get('Posthooks-Replayed-From') };
      recorder.handled.push(h);
      return recorder.behaviour(h, ctx);
    }
  }
  @Module({ controllers: [LoadsController] })
  class ConsumerModule {}

  const nc = await connect({ servers: process.env.NATS_URL });
  const strategy = new JetStreamTransport({
    connection: nc,
    naming,
    consumers: [{ stream: 'LOADS', durable: 'test-dispatcher', ackWaitMs: 5000, ...consumer }],
    drainTimeoutMs,
  });
  const app = await NestFactory.createMicroservice(ConsumerModule, { strategy, logger: false });
  // As createServiceApp does: the transport sees what handlers throw.
  app.useGlobalFilters(new JetStreamExceptionFilter());
  await app.listen();
  return { app, nc };
}

export async function stopConsumer(c: { app: INestMicroservice; nc: NatsConnection }): Promise<void> {
  await c.app.close();
  await c.nc.close();
}

export function loadEvent(table: string, extra: Partial<LoadEvent> = {}): LoadEvent {
  return Object.assign(new LoadEvent(), { client_id: 1, integration_name: 'shopify', table_name: table, ...extra });
}
