/**
 * Issue 19: every image built and run. `npm run test:images` (its own time budget, not part
 * of `npm test`): builds the five targets of docker/Dockerfile with the classic builder,
 * runs each the way k8s runs it (its user, a read-only root with the pod's emptyDirs as
 * tmpfs) against a NATS and a Postgres of its own, checks /health/ready, the uid, that the
 * root is read-only, that `docker stop` drains and exits 0 within the grace period, and
 * that the k8s overlays agree with the images (port, user, command, probes); prints each
 * image's size. Skipped, loudly, only where no Docker engine can be started.
 */
import { randomBytes } from 'node:crypto';
import { freePort, PrivateNatsServer, waitFor } from '@posthooks/testing';
import { nodeArgs } from '../tools/service-command.cjs';
import { PrivatePostgres } from '../faults/support/private-postgres';
import { APPS, AppName, baseImage, buildImages, docker, ensureDockerEngine, imageOf, inspectImage, ImageConfig, mib, skipLoudly, uidOf } from './support/docker';
import { appPod, renderOverlay } from './support/k8s';

const PORTS: Record<AppName, number> = { 'ingest-gateway': 3001, 'hook-registry': 3002, 'load-simulator': 3003, dispatcher: 3004, 'email-notifier': 3005 };
/** compose.yaml's stop_grace_period; k8s gives at least as much (checked below). */
const GRACE_S = 20;
const SHUTDOWN_TIMEOUT_MS = 10_000;

let noEngine: string | undefined;
const configs = {} as Record<AppName, ImageConfig>;
const buildSeconds = {} as Partial<Record<AppName, number>>;
const stopSeconds = {} as Partial<Record<AppName, number>>;

beforeAll(async () => {
  noEngine = await ensureDockerEngine();
  if (noEngine) return skipLoudly('npm run test:images: no image was built or run', noEngine);
  const base = await baseImage();
  Object.assign(buildSeconds, await buildImages(base));
  for (const app of APPS) configs[app] = await inspectImage(imageOf(app));
}, 900_000);

afterAll(() => {
  if (noEngine) return;
  const rows = APPS.filter((a) => configs[a]).map((a) => `| ${a.padEnd(15)} | ${mib(configs[a].sizeBytes).padStart(8)} | ${String(buildSeconds[a] ?? '?').padStart(7)} | ${String(stopSeconds[a] ?? '?').padStart(8)} |`);
  process.stdout.write(['', '| image           |     size | build s | stop s   |', '| --------------- | -------- | ------- | -------- |', ...rows, ''].join('\n') + '\n');
});

/** Runs only when there is an engine (the loud message said why not). */
const withEngine = (fn: () => Promise<void>) => async () => {
  if (noEngine) return;
  await fn();
};

describe('each image, run as k8s runs it', () => {
  let nats: PrivateNatsServer;
  let pg: PrivatePostgres;
  let k8s: ReturnType<typeof renderOverlay> = [];
  const secrets = { ADMIN_TOKEN: randomBytes(33).toString('base64'), SECRETS_KEY: randomBytes(32).toString('base64') };

  beforeAll(async () => {
    if (noEngine) return;
    k8s = renderOverlay('production');
    nats = await PrivateNatsServer.start();
    pg = await PrivatePostgres.start();
  }, 120_000);

  afterAll(async () => {
    await nats?.dispose();
    await pg?.dispose();
  });

  // The registry first: it creates the database the others then use.
  it.each(['hook-registry', ...APPS.filter((a) => a !== 'hook-registry')] as AppName[])(
    '%s: ready as uid 1000 on a read-only root, and stops (drained, exit 0) within the grace period',
    (app) =>
      withEngine(async () => {
        const pod = appPod(k8s, app);
        const port = await freePort();
        const name = `posthooks-images-${app}-${process.pid}`;
        const env: Record<string, string> = {
          PORT: String(port),
          NATS_URL: nats.url,
          DATABASE_URL: pg.url('posthooks'),
          SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
          STREAM_MAX_BYTES_LOADS: '16777216',
          STREAM_MAX_BYTES_INGEST: '16777216',
          STREAM_MAX_BYTES_NOTIFY: '16777216',
          STREAM_MAX_BYTES_DELIVERIES: '16777216',
          STREAM_MAX_BYTES_DEADLETTER: '16777216',
          ...(app === 'hook-registry' || app === 'load-simulator' ? { ADMIN_TOKEN: secrets.ADMIN_TOKEN } : {}),
          // The services that seal or open secrets (SPEC §12): hook secrets, header values, destination passwords.
          ...(app === 'hook-registry' || app === 'dispatcher' || app === 'load-simulator' ? { SECRETS_KEY: secrets.SECRETS_KEY } : {}),
          ...(app === 'email-notifier' ? { SMTP_URL: 'smtp://127.0.0.1:9', SMTP_ALLOW_PLAINTEXT: 'true' } : {}),
        };
        // As the pod: a read-only root where k8s sets one, with its emptyDirs as tmpfs.
        const readOnly = pod.readOnlyRootFilesystem ? ['--read-only', ...pod.emptyDirMounts.flatMap((m) => ['--tmpfs', m])] : [];
        const user = pod.runAsUser !== undefined ? ['--user', String(pod.runAsUser)] : [];
        await docker(['run', '-d', '--name', name, '--network', 'host', ...readOnly, ...user, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), imageOf(app)]);
        try {
          await waitFor(
            `${app} /health/ready`,
            async () => {
              const state = await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]);
              if (!state.startsWith('running')) throw new Error(`container ${state}: ${await docker(['logs', '--tail', '20', name]).catch(() => '')}`);
              return (await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 200;
            },
            { timeoutMs: 120_000, intervalMs: 500 },
          ).catch(async (err: Error) => {
            throw new Error(`${err.message}\n${(await docker(['logs', '--tail', '30', name]).catch(() => '')).slice(-4000)}`);
          });

          // The service itself (PID 1) runs as uid 1000.
          const status = await docker(['exec', name, 'cat', '/proc/1/status']);
          expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('1000');
          expect(await docker(['exec', name, 'cat', '/proc/1/cmdline']).then((s) => s.split('\0').filter(Boolean))).toEqual(['node', ...nodeArgs(app)]);
          if (pod.readOnlyRootFilesystem) {
            await expect(docker(['exec', name, 'sh', '-c', 'echo x > /app/written'])).rejects.toThrow(/read-only/i);
            for (const m of pod.emptyDirMounts) await docker(['exec', name, 'sh', '-c', `echo x > ${m}/written`]);
          }

          const started = Date.now();
          await docker(['stop', '-t', String(GRACE_S), name], { timeoutMs: (GRACE_S + 30) * 1000 });
          stopSeconds[app] = Math.round((Date.now() - started) / 100) / 10;
          const [exitCode, oomKilled] = (await docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', name])).split(' ');
          // 0: the service caught SIGTERM and closed by itself (SIGKILL after the grace period gives 137, an unhandled SIGTERM 143).
          expect({ app, exitCode, oomKilled }).toEqual({ app, exitCode: '0', oomKilled: 'false' });
          expect(stopSeconds[app]).toBeLessThan(GRACE_S);
          const logs = await docker(['logs', name]);
          expect(logs).not.toMatch(/cannot start|"level":"fatal"/);
        } finally {
          await docker(['rm', '-f', name]).catch(() => undefined);
        }
      })(),
    240_000,
  );
});

describe('the k8s overlays and the images agree', () => {
  for (const overlay of ['dev', 'production'] as const) {
    it(
      `${overlay}: each Deployment's port, user, command and probes are what its image does`,
      withEngine(async () => {
        const objects = renderOverlay(overlay);
        for (const app of APPS) {
          const pod = appPod(objects, app);
          const image = configs[app];
          const where = `${overlay}/${app}`;
          // The port: the image exposes it and listens on PORT; the pod names it http.
          const http = pod.container.ports?.find((p) => p.name === 'http');
          expect({ where, port: http?.containerPort }).toEqual({ where, port: PORTS[app] });
          expect({ where, exposed: image.exposedPorts }).toEqual({ where, exposed: [`${PORTS[app]}/tcp`] });
          expect({ where, envPort: image.env.PORT }).toEqual({ where, envPort: String(PORTS[app]) });
          const podPort = pod.container.env?.find((e) => e.name === 'PORT')?.value;
          if (podPort !== undefined) expect({ where, podPort }).toEqual({ where, podPort: String(PORTS[app]) });
          // The user: k8s's runAsUser is the image's own user.
          expect({ where, runAsUser: pod.runAsUser }).toEqual({ where, runAsUser: await uidOf(imageOf(app)) });
          // The command: k8s runs the image's (no override), which is the service's node command.
          expect({ where, command: pod.container.command, args: pod.container.args }).toEqual({ where, command: undefined, args: undefined });
          expect({ where, cmd: image.cmd, entrypoint: image.entrypoint }).toEqual({ where, cmd: ['node', ...nodeArgs(app)], entrypoint: null });
          // The probes ask the service's own health endpoints on that port.
          for (const [probe, path] of [
            ['livenessProbe', '/health/live'],
            ['readinessProbe', '/health/ready'],
          ] as const) {
            expect({ where, probe, get: pod.container[probe]?.httpGet }).toEqual({ where, probe, get: { path, port: 'http' } });
          }
          // docker stop's grace period here is no longer than the pod's.
          expect(pod.pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS / 1000);
        }
      }),
      120_000,
    );
  }
});
