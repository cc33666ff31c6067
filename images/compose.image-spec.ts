/**
 * Issue 19 item 3: the compose stack for real. docker/compose.yaml with
 * docker/compose.local.yaml (NATS, Postgres and maildev from the local infra image), the
 * five images of this run, brought up with Debian's docker-compose (or the compose
 * plugin); an account, a destination and a hook to an HTTPS receiver on the host, a
 * simulated load, and a webhook that arrives with a valid Standard Webhooks signature.
 * Then brought down, volumes too.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { freePort, waitFor } from '@posthooks/testing';
import { APPS, AppName, buildImages, docker, ensureDockerEngine, imageOf, ROOT, skipLoudly, TAG } from './support/docker';

const run = promisify(execFile);
const HOST_PORT_VARS: Record<AppName, string> = {
  'ingest-gateway': 'GATEWAY_HOST_PORT',
  'hook-registry': 'REGISTRY_HOST_PORT',
  'load-simulator': 'SIMULATOR_HOST_PORT',
  dispatcher: 'DISPATCHER_HOST_PORT',
  'email-notifier': 'NOTIFIER_HOST_PORT',
};

/** `docker-compose` (Debian's 1.29) or the `docker compose` plugin, whichever runs. */
function composeCommand(): string[] | undefined {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    try {
      execFileSync(cmd[0], [...cmd.slice(1), 'version'], { stdio: 'ignore', timeout: 30_000 });
      return cmd;
    } catch {
      // try the next one
    }
  }
  try {
    execFileSync('sh', ['-c', 'apt-get install -y -qq docker-compose'], { stdio: 'ignore', timeout: 300_000 });
    return ['docker-compose'];
  } catch {
    return undefined;
  }
}

interface Received {
  headers: Record<string, string>;
  body: string;
}

describe('docker/compose.yaml + compose.local.yaml, for real', () => {
  let skip: string | undefined;
  let compose: string[] = [];
  let dir = '';
  let receiver: Server | undefined;
  const received: Received[] = [];
  const env: Record<string, string> = {};
  const project = `posthooks-images-${process.pid}`;

  const composeRun = async (...args: string[]) => {
    const files = ['-f', join(ROOT, 'docker', 'compose.yaml'), '-f', join(ROOT, 'docker', 'compose.local.yaml'), '-f', join(dir, 'compose.test.yaml')];
    try {
      return (await run(compose[0], [...compose.slice(1), '-p', project, ...files, ...args], { env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      throw new Error(`compose ${args[0]}: ${(e.stderr ?? e.message).trim().split('\n').slice(-20).join('\n')}`);
    }
  };

  beforeAll(async () => {
    skip = await ensureDockerEngine();
    if (!skip) {
      compose = composeCommand() ?? [];
      if (compose.length === 0) skip = 'neither docker-compose nor the compose plugin runs, and apt-get could not install docker-compose';
    }
    if (skip) return skipLoudly('npm run test:images: the compose stack was not brought up', skip);

    const { stdout } = await run(join(ROOT, 'tools', 'make-base-image.sh'), ['--local', '--infra'], { timeout: 900_000, maxBuffer: 16 * 1024 * 1024 });
    const missing = [];
    for (const app of APPS) if (!(await docker(['image', 'inspect', imageOf(app)]).then(() => true, () => false))) missing.push(app);
    if (missing.length > 0) await buildImages(stdout.trim());

    // The receiver: HTTPS on the host, with a certificate of this run's throwaway CA for
    // the name the containers reach the host by.
    dir = mkdtempSync(join(tmpdir(), 'posthooks-compose-'));
    const tls = process.env.POSTHOOKS_TEST_TLS_DIR;
    if (!tls) throw new Error('POSTHOOKS_TEST_TLS_DIR is not set: run with npm run test:images');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'host.key', '-out', 'host.csr', '-subj', '/CN=host.docker.internal');
    writeFileSync(join(dir, 'host.ext'), 'subjectAltName=DNS:host.docker.internal\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', 'host.csr', '-CA', join(tls, 'ca.pem'), '-CAkey', join(tls, 'ca.key'), '-CAserial', join(dir, 'ca.srl'), '-CAcreateserial', '-out', 'host.pem', '-days', '2', '-extfile', 'host.ext');
    const server = createServer({ cert: readFileSync(join(dir, 'host.pem')), key: readFileSync(join(dir, 'host.key')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('ok');
      });
    });
    receiver = server;
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    env.RECEIVER_PORT = String((server.address() as AddressInfo).port);

    // Containers reach the host as host.docker.internal, and trust the throwaway CA.
    writeFileSync(
      join(dir, 'compose.test.yaml'),
      [
        'services:',
        '  hook-registry:',
        "    extra_hosts: ['host.docker.internal:host-gateway']",
        '  dispatcher:',
        "    extra_hosts: ['host.docker.internal:host-gateway']",
        `    volumes: ['${join(tls, 'ca.pem')}:/run/posthooks-test-ca.pem:ro']`,
        '    environment:',
        '      NODE_EXTRA_CA_CERTS: /run/posthooks-test-ca.pem',
        '',
      ].join('\n'),
    );

    Object.assign(env, {
      POSTHOOKS_TAG: TAG,
      ADMIN_TOKEN: randomBytes(33).toString('base64'),
      POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      ALLOW_PRIVATE_TARGETS: 'true',
      ...Object.fromEntries(['HOOK_REGISTRY', 'DISPATCHER', 'INGEST_GATEWAY', 'LOAD_SIMULATOR', 'EMAIL_NOTIFIER'].map((s) => [`NATS_PASSWORD_${s}`, `p${randomBytes(24).toString('hex')}`])),
    });
    // Host ports of their own: this machine runs a NATS and a Postgres on the usual ones.
    for (const v of ['NATS_HOST_PORT', 'NATS_MONITOR_HOST_PORT', 'POSTGRES_HOST_PORT', 'MAILDEV_HOST_PORT', ...Object.values(HOST_PORT_VARS)]) env[v] = String(await freePort());
  }, 1_200_000);

  afterAll(async () => {
    if (!skip && dir) await composeRun('down', '-v', '--remove-orphans', '-t', '20').catch((err: Error) => process.stderr.write(`${err.message}\n`));
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('comes up, and a simulated load reaches a hook as a signed webhook', async () => {
    if (skip) return;
    await composeRun('up', '-d', '--no-build');
    const url = (app: AppName) => `http://127.0.0.1:${env[HOST_PORT_VARS[app]]}`;
    await waitFor(
      'every service ready',
      async () => {
        for (const app of APPS) if ((await fetch(`${url(app)}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status !== 200) return false;
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 1000 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await composeRun('ps').catch(() => ''))}\n${(await composeRun('logs', '--tail', '15').catch(() => '')).slice(-6000)}`);
    });

    const call = async <T>(app: AppName, path: string, token: string, body: unknown) => {
      const res = await fetch(`${url(app)}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as T };
    };
    const account = await call<{ id: number; api_key: string }>('hook-registry', '/v1/accounts', env.ADMIN_TOKEN, { name: 'acme', plan: 'advanced', notification_email: 'data@acme.test' });
    expect(account.status).toBe(201);
    const destination = await call<{ id: number }>('hook-registry', '/v1/destinations', account.body.api_key, { name: 'warehouse', type: 'postgres' });
    expect(destination.status).toBe(201);
    const hook = await call<{ id: number; secret: string }>('hook-registry', '/notifications/public/v1/api/hooks', account.body.api_key, {
      type: 'post_load',
      destination_id: destination.body.id,
      config: { url: `https://host.docker.internal:${env.RECEIVER_PORT}/hook` },
    });
    expect(hook.status).toBe(200);

    // The dispatcher learns of the hook from the registry's stream: simulate until a
    // load after that point is delivered (each simulation is a new event).
    const sent = new Set<string>();
    const webhook = await waitFor(
      'a webhook at the receiver',
      async () => {
        if (received.length > 0) return received[0];
        const sim = await call<{ event_ids: string[] }>('load-simulator', '/v1/simulations', account.body.api_key, { client_id: account.body.id, integration_name: 'compose', tables: ['orders'], outcome: 'loaded' });
        if (sim.status !== 202) throw new Error(`simulation: ${sim.status} ${JSON.stringify(sim.body)}`);
        for (const id of sim.body.event_ids) sent.add(id);
        await new Promise((r) => setTimeout(r, 3000));
        return received[0];
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    const payload = new Webhook(hook.body.secret).verify(webhook.body, webhook.headers) as { event_type: string; event_id: string; client_id: number };
    expect(payload.event_type).toBe('table.loaded');
    expect(payload.client_id).toBe(account.body.id);
    expect(sent.has(payload.event_id)).toBe(true);
    // A wrong secret does not verify it (the check can fail).
    expect(() => new Webhook(randomBytes(24).toString('base64')).verify(webhook.body, webhook.headers)).toThrow();

    // Compose's own health checks pass: each container's check, run in it (on a loaded
    // machine a scheduled check can exceed its timeout; the command itself must succeed).
    const names = (await docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'])).split('\n');
    expect(names).toHaveLength(APPS.length + 3);
    for (const name of names) {
      const test = JSON.parse(await docker(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', name])) as string[];
      const argv = test[0] === 'CMD-SHELL' ? ['sh', '-c', test[1]] : test.slice(1);
      expect({ name, check: test[0] }).toEqual({ name, check: expect.stringMatching(/^CMD(-SHELL)?$/) });
      await docker(['exec', name, ...argv], { timeoutMs: 60_000 }).catch((err: Error) => {
        throw new Error(`${name}'s health check failed: ${err.message}`);
      });
    }
  }, 600_000);
});
