import { INestApplication } from '@nestjs/common';
import { IngestGatewayEnv, loadEnv } from '@posthooks/config';
import { IngestRecordsEvent } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { createServiceApp } from '@posthooks/runtime';
import { RegistryEvents, streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { ingestGateway } from '../src/service';

/** The gateway in-process, as its main builds it, fed registry events like the registry's. */
export class Gateway {
  private constructor(
    readonly app: INestApplication,
    readonly env: IngestGatewayEnv,
    readonly url: string,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly naming: NatsNaming,
    readonly registry: RegistryEvents,
  ) {}

  static async start(name: string, overrides: Record<string, string> = {}): Promise<Gateway> {
    const env = loadEnv(IngestGatewayEnv, { ...testEnv(name), NODE_ENV: 'test', LOG_LEVEL: 'error', ...overrides });
    const app = await createServiceApp(ingestGateway, env);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const nc = await connect({ servers: env.NATS_URL });
    return new Gateway(app, env, `http://127.0.0.1:${port}`, nc, await nc.jetstreamManager(), new NatsNaming(env.NATS_NAMESPACE), new RegistryEvents(nc, env.NATS_NAMESPACE));
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.nc.close();
  }

  /** An account and a destination the gateway knows of. */
  async account(): Promise<{ id: number; key: string; destinationId: number }> {
    const a = await this.registry.account();
    const destinationId = await this.registry.destination(a.id);
    const view = this.app.get(RegistryView);
    await waitFor('the gateway to know the account', () => view.accountOfKey(a.keyHash) === a.id && view.destinations.has(destinationId));
    return { id: a.id, key: a.key, destinationId };
  }

  /** Another destination of the account, once the gateway knows it. */
  async destination(accountId: number): Promise<number> {
    const destinationId = await this.registry.destination(accountId);
    await waitFor('the gateway to know the destination', () => this.app.get(RegistryView).destinations.has(destinationId));
    return destinationId;
  }

  async api<T = unknown>(method: string, path: string, key?: string, json?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(json !== undefined ? { 'content-type': 'application/json' } : {}) }, body: json !== undefined ? JSON.stringify(json) : undefined });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Every INGEST message so far. */
  async ingested(): Promise<IngestRecordsEvent[]> {
    return (await streamMessages(this.jsm, this.naming.namespace, 'INGEST')).map((m) => m.json<IngestRecordsEvent>());
  }
}
