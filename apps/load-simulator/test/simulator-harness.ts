import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { loadEnv, LoadSimulatorEnv } from '@posthooks/config';
import { LoadEvent } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { RegistryView, RegistryViewModule } from '@posthooks/registry-view';
import { coreModules, createServiceApp, ServiceDefinition } from '@posthooks/runtime';
import { RegistryEvents, TEST_ADMIN_TOKEN, testEnv, waitFor } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { Schedules1764000300000, SimulationsModule } from '../src/simulations';

/**
 * Just the simulations feature in a Nest app, wired as SimulationsModule asks to be, so
 * these tests do not depend on the rest of the load-simulator's app module.
 */
@Module({})
class SimulationsTestModule {
  static forRoot(env: LoadSimulatorEnv): DynamicModule {
    return {
      module: SimulationsTestModule,
      imports: [
        ...coreModules(env, { service: 'load-simulator', schema: 'load_simulator', migrations: [Schedules1764000300000] }),
        RegistryViewModule.forRoot(),
        SimulationsModule.forRoot(env),
      ],
    };
  }
}

const definition: ServiceDefinition<LoadSimulatorEnv> = {
  name: 'load-simulator',
  env: LoadSimulatorEnv,
  module: (env) => SimulationsTestModule.forRoot(env),
  // Builds /docs at start, so an annotation the document cannot take fails these tests.
  openApi: { title: 'load-simulator', description: 'simulations under test' },
};

/** A load event as stored in the LOADS stream. */
export interface StoredLoad {
  seq: number;
  subject: string;
  msgId: string | undefined;
  time: Date;
  event: LoadEvent;
}

/** The simulations API in-process, with a NATS connection of its own to play the registry and read LOADS. */
export class SimulatorHarness {
  private readonly seen: StoredLoad[] = [];

  private constructor(
    private app: INestApplication,
    /** Where the current app listens (changes with restart). */
    public url: string,
    readonly env: LoadSimulatorEnv,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly naming: NatsNaming,
    private readonly registry: RegistryEvents,
  ) {}

  static async start(name: string, overrides: Record<string, string> = {}): Promise<SimulatorHarness> {
    const env = loadEnv(LoadSimulatorEnv, {
      ...testEnv(name),
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      SCHEDULE_CHECK_INTERVAL_MS: '100',
      ...overrides,
    });
    const [app, url] = await listen(env);
    const nc = await connect({ servers: env.NATS_URL });
    const naming = new NatsNaming(env.NATS_NAMESPACE);
    return new SimulatorHarness(app, url, env, nc, await nc.jetstreamManager(), naming, new RegistryEvents(nc, env.NATS_NAMESPACE));
  }

  /** Closes the app and starts a new one on the same env, database and streams. */
  async restart(): Promise<void> {
    await this.app.close();
    [this.app, this.url] = await listen(this.env);
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.nc.close();
  }

  get db(): DataSource {
    return this.app.get(DataSource);
  }

  /** An account with one key, as the registry announces them; resolves once the app's view knows the key. */
  async account(): Promise<{ id: number; key: string }> {
    const { id, key, keyHash } = await this.registry.account();
    await waitFor('the view to know the key', () => this.app.get(RegistryView).accountOfKey(keyHash) === id);
    return { id, key };
  }

  /** The load events in LOADS so far (the stream is this test file's own), optionally of one client. */
  async loads(clientId?: number): Promise<StoredLoad[]> {
    const stream = this.naming.stream('LOADS');
    const last = (await this.jsm.streams.info(stream)).state.last_seq;
    for (let seq = (this.seen.at(-1)?.seq ?? 0) + 1; seq <= last; seq++) {
      const m = await this.jsm.streams.getMessage(stream, { seq });
      this.seen.push({ seq, subject: this.naming.logical(m.subject) ?? m.subject, msgId: m.header?.get('Nats-Msg-Id') || undefined, time: m.time, event: m.json<LoadEvent>() });
    }
    return clientId === undefined ? [...this.seen] : this.seen.filter((l) => l.event.client_id === clientId);
  }

  /** `body` as a string is sent as it is (malformed JSON); anything else as JSON. */
  async api<T = unknown>(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

async function listen(env: LoadSimulatorEnv): Promise<[INestApplication, string]> {
  const app = await createServiceApp(definition, env);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return [app, `http://127.0.0.1:${port}`];
}
