import { TEST_ADMIN_TOKEN, testEnv, waitFor } from '@posthooks/testing';
import { GATEWAY_REGISTRY_SUBJECTS } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { connect } from 'nats';
import { READY_TIMEOUT_MS, SERVICE_NAMES, ServiceName, ServiceProcess } from './service-process';

/**
 * What a test does through the services' public HTTP APIs, as a user would, for any set
 * of running services (this file's Stack, and the fault suite's smaller FaultStack).
 */
export abstract class StackApi {
  abstract readonly env: Record<string, string>;
  abstract get(name: ServiceName): ServiceProcess;
  /** How long registryApplied waits for each step (default: waitFor's). */
  protected readonly registryWaitMs?: number;

  async call<T = unknown>(service: ServiceName, method: string, path: string, token?: string, json?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.get(service).url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /**
   * Waits until these services have applied every change the registry has committed:
   * its outbox is empty and their views have reached the REGISTRY stream's last message.
   */
  async registryApplied(...services: ServiceName[]): Promise<void> {
    const opts = this.registryWaitMs === undefined ? {} : { timeoutMs: this.registryWaitMs };
    await waitFor('the registry outbox to drain', async () => (await metric(this.get('hook-registry'), /^posthooks_registry_outbox_pending/)) === 0, opts);
    const nc = await connect({ servers: this.env.NATS_URL.split(',') });
    const jsm = await nc.jetstreamManager();
    const naming = new NatsNaming(this.env.NATS_NAMESPACE);
    const stream = naming.stream('REGISTRY');
    const last = (await jsm.streams.info(stream)).state.last_seq;
    // The gateway reads only some subjects: it is current at the last message of those.
    let gatewayLast = 0;
    for (const subject of GATEWAY_REGISTRY_SUBJECTS) {
      const m = await jsm.streams.getMessage(stream, { last_by_subj: naming.subject(subject) }).catch(() => undefined);
      gatewayLast = Math.max(gatewayLast, m?.seq ?? 0);
    }
    await nc.close();
    for (const s of services) {
      const target = s === 'ingest-gateway' ? gatewayLast : last;
      await waitFor(`${s} to apply the registry's changes`, async () => (await metric(this.get(s), /^posthooks_registry_view_sequence/)) >= target, opts);
    }
  }

  /** An account with a destination, through the registry's API. */
  async account(plan = 'advanced', email = 'data@acme.test'): Promise<{ id: number; key: string; destinationId: number }> {
    const acc = await this.call<{ id: number; api_key: string }>('hook-registry', 'POST', '/v1/accounts', TEST_ADMIN_TOKEN, { name: 'acme', plan, notification_email: email });
    if (acc.status !== 201) throw new Error(`account: ${acc.status} ${JSON.stringify(acc.body)}`);
    const dest = await this.call<{ id: number }>('hook-registry', 'POST', '/v1/destinations', acc.body.api_key, { name: 'warehouse', type: 'postgres' });
    return { id: acc.body.id, key: acc.body.api_key, destinationId: dest.body.id };
  }

  async hook(key: string, destinationId: number, url: string): Promise<{ id: number; secret: string }> {
    const res = await this.call<{ id: number; secret: string }>('hook-registry', 'POST', '/notifications/public/v1/api/hooks', key, { type: 'post_load', destination_id: destinationId, config: { url } });
    if (res.status !== 200) throw new Error(`hook: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

/**
 * All five services as separate processes on one test namespace and database, the way
 * `npm start` runs them, plus helpers that use their public HTTP APIs as a user would.
 */
export class Stack extends StackApi {
  private readonly extra: ServiceProcess[] = [];

  private constructor(
    readonly env: Record<string, string>,
    readonly services: Map<ServiceName, ServiceProcess>,
    private readonly overrides: Partial<Record<ServiceName, Record<string, string>>>,
  ) {
    super();
  }

  static async start(name: string, overrides: Partial<Record<ServiceName, Record<string, string>>> = {}, common: Record<string, string> = {}): Promise<Stack> {
    // SMTP to a closed port: e2e emails must not land in a developer's `npm start` inbox.
    const env = { ...testEnv(name), ALLOW_PRIVATE_TARGETS: 'true', SMTP_URL: 'smtp://127.0.0.1:9', ...common } as Record<string, string>;
    const services = new Map<ServiceName, ServiceProcess>();
    // One deadline for the whole start, within the e2e hook's 60 s.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    try {
      // The registry first: it creates the database the others then find.
      const registry = await ServiceProcess.spawn('hook-registry', { ...env, ...overrides['hook-registry'] });
      services.set('hook-registry', registry);
      await registry.ready(deadline - Date.now());
      for (const s of SERVICE_NAMES.filter((x) => x !== 'hook-registry')) services.set(s, await ServiceProcess.spawn(s, { ...env, ...overrides[s] }));
      await Promise.all([...services.values()].map((s) => s.ready(Math.max(deadline - Date.now(), 0))));
    } catch (err) {
      // Nothing it started may outlive a failed start: Jest would hang on them, and they would hold ports and the database.
      await Promise.all([...services.values()].map((s) => s.terminate()));
      throw err;
    }
    return new Stack(env, services, overrides);
  }

  get(name: ServiceName): ServiceProcess {
    return this.services.get(name)!;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.services.values(), ...this.extra].map((s) => s.stop()));
  }

  /** Starts the service again (after a kill), with the same settings. */
  async restart(name: ServiceName): Promise<ServiceProcess> {
    const s = await (await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] })).ready();
    this.services.set(name, s);
    return s;
  }

  /** One more replica of a service, with the same settings. */
  async replica(name: ServiceName): Promise<ServiceProcess> {
    const s = await (await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] })).ready();
    this.extra.push(s);
    return s;
  }
}

/** The value of a Prometheus sample in a service's /metrics, or 0. */
export async function metric(service: ServiceProcess, sample: RegExp): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => sample.test(l));
  return line ? Number(line.split(' ').pop()) : 0;
}
