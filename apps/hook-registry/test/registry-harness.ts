import { INestApplication } from '@nestjs/common';
import { HookRegistryEnv, loadEnv } from '@posthooks/config';
import { createServiceApp } from '@posthooks/runtime';
import { TEST_ADMIN_TOKEN, testEnv } from '@posthooks/testing';
import { OutboxRelay } from '../src/changes/outbox-relay';
import { hookRegistry } from '../src/service';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** The registry in-process, built exactly as its main builds it, on a free port. */
export class Registry {
  private constructor(
    readonly app: INestApplication,
    readonly env: HookRegistryEnv,
    readonly url: string,
  ) {}

  static async start(name: string, overrides: Record<string, string> = {}): Promise<Registry> {
    const env = loadEnv(HookRegistryEnv, { ...testEnv(name), NODE_ENV: 'test', ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'warn', ...overrides });
    const app = await createServiceApp(hookRegistry, env);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    return new Registry(app, env, `http://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Waits until every committed change is on the REGISTRY stream. */
  published(): Promise<void> {
    return this.app.get(OutboxRelay).flushed();
  }

  async call<T = unknown>(method: string, path: string, opts: { token?: string; json?: unknown; raw?: string; contentType?: string } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (opts.raw !== undefined) body = opts.raw;
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, text };
  }

  // Fixtures through the public API, as a user would make them.

  async account(plan = 'advanced', extra: Record<string, unknown> = {}): Promise<{ id: number; key: string }> {
    const res = await this.call<{ id: number; api_key: string }>('POST', '/v1/accounts', {
      token: TEST_ADMIN_TOKEN,
      json: { name: `acme-${Math.random().toString(36).slice(2, 8)}`, plan, notification_email: 'data@acme.test', ...extra },
    });
    if (res.status !== 201) throw new Error(`account: ${res.status} ${res.text}`);
    return { id: res.body.id, key: res.body.api_key };
  }

  async destination(key: string): Promise<number> {
    const res = await this.call<{ id: number }>('POST', '/v1/destinations', { token: key, json: { name: 'warehouse', type: 'postgres' } });
    if (res.status !== 201) throw new Error(`destination: ${res.status} ${res.text}`);
    return res.body.id;
  }

  createHook(key: string, destinationId: number, url = 'https://hooks.acme.test/landed') {
    return this.call<HookJson & { secret: string }>('POST', HOOKS, { token: key, json: { type: 'post_load', destination_id: destinationId, config: { url } } });
  }

  async hook(key: string, destinationId: number, url?: string): Promise<HookJson & { secret: string }> {
    const res = await this.createHook(key, destinationId, url);
    if (res.status !== 200) throw new Error(`hook: ${res.status} ${res.text}`);
    return res.body;
  }

  async hooks(key: string): Promise<HookJson[]> {
    return (await this.call<{ post_load: HookJson[] }>('GET', HOOKS, { token: key })).body.post_load;
  }
}

export const HOOKS = '/notifications/public/v1/api/hooks';

export interface HookJson {
  id: number;
  client_id: number;
  type: 'post_load';
  version: number;
  config: { url: string; destination_id: number };
  created_at: string;
  modified_at: string;
  disabled_at: string | null;
  disabled_reason: string | null;
}
