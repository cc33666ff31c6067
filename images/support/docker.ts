import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@posthooks/testing';

export const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

export type AppName = 'ingest-gateway' | 'hook-registry' | 'load-simulator' | 'dispatcher' | 'email-notifier';
export const APPS: AppName[] = ['ingest-gateway', 'hook-registry', 'load-simulator', 'dispatcher', 'email-notifier'];

/** The tag the tests build and run (never a published one). */
export const TAG = process.env.POSTHOOKS_TAG ?? 'images-test';
export const imageOf = (app: AppName): string => `ghcr.io/posthooks/${app}:${TAG}`;

/** `docker <args>`, its stdout trimmed; fails with docker's own stderr. */
export async function docker(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`docker ${args.slice(0, 3).join(' ')}…: ${e.stderr?.trim().split('\n').slice(-15).join('\n') || e.message}`);
  }
}

function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Docker engine to talk to, or why there is none. As root on a machine without one
 * running, starts `dockerd` (installing Debian's docker.io first when it is missing), as
 * docker/README.md tells a developer to; the engine is left running for later runs.
 */
export async function ensureDockerEngine(): Promise<string | undefined> {
  if (engineAnswers()) return undefined;
  if (process.getuid?.() !== 0) return 'no Docker engine answers and this is not root, so none can be started';
  const has = (bin: string) => ['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, bin)));
  if (!has('dockerd')) {
    try {
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap'], { stdio: 'ignore', timeout: 300_000 });
    } catch {
      return 'dockerd is missing and `apt-get install docker.io` failed';
    }
  }
  const log = openSync('/var/log/dockerd.log', 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  closeSync(log);
  try {
    await waitFor('dockerd to answer', () => engineAnswers(), { timeoutMs: 60_000, intervalMs: 1000 });
    return undefined;
  } catch {
    return 'dockerd was started but does not answer (see /var/log/dockerd.log)';
  }
}

/** Says loudly, once, that the image tests did not run, and why. */
export function skipLoudly(what: string, why: string): void {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n!! SKIPPED: ${what}\n!! ${why}\n${bar}\n\n`);
}

/** The base image (tools/make-base-image.sh: the official node image, or one made here). */
export async function baseImage(infra = false): Promise<string> {
  const { stdout } = await run(join(ROOT, 'tools', 'make-base-image.sh'), infra ? ['--infra'] : [], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Builds the five targets in turn (they share the build stage's layers); seconds per target. */
export async function buildImages(base: string): Promise<Record<AppName, number>> {
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
  const seconds = {} as Record<AppName, number>;
  for (const app of APPS) {
    const started = Date.now();
    await docker(
      ['build', '--network', 'host', '-f', 'docker/Dockerfile', '--target', app, '--build-arg', `NODE_IMAGE=${base}`, '--build-arg', `NPM_REGISTRY=${registry}`, '-t', imageOf(app), '.'],
      { timeoutMs: 600_000, env: { ...process.env, DOCKER_BUILDKIT: '0' } },
    ).catch((err: Error) => {
      throw new Error(`building ${app}: ${err.message}`);
    });
    seconds[app] = Math.round((Date.now() - started) / 1000);
  }
  return seconds;
}

export interface ImageConfig {
  user: string;
  cmd: string[];
  entrypoint: string[] | null;
  exposedPorts: string[];
  env: Record<string, string>;
  sizeBytes: number;
}

export async function inspectImage(image: string): Promise<ImageConfig> {
  const [info] = JSON.parse(await docker(['image', 'inspect', image])) as { Size: number; Config: { User: string; Cmd: string[]; Entrypoint: string[] | null; ExposedPorts?: Record<string, object>; Env: string[] } }[];
  return {
    user: info.Config.User,
    cmd: info.Config.Cmd,
    entrypoint: info.Config.Entrypoint,
    exposedPorts: Object.keys(info.Config.ExposedPorts ?? {}),
    env: Object.fromEntries(info.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    sizeBytes: info.Size,
  };
}

/** The numeric uid an image's user name maps to, as the image's own /etc/passwd says. */
export async function uidOf(image: string): Promise<number> {
  return Number(await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'id', image, '-u']));
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
