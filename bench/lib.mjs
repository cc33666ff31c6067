// Small helpers shared by the bench scripts: a service process, a keep-alive HTTP load
// loop with latency percentiles, and a markdown table.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawnService } from '../tools/service-command.cjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function build() {
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `dist/apps/<name>/src/main.js` with the Node flags its image runs it with
 * (tools/service-command.cjs) and resolves when /health/ready is 200.
 */
const BENCH_SECRETS_KEY = Buffer.alloc(32, 'bench-secrets-key').toString('base64');

export async function startService(name, env) {
  const port = await freePort();
  // BENCH_CPU_PROF=<dir>: each service writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  // The registry and the dispatcher need a SECRETS_KEY (it seals hook secrets); a bench's own, public like its admin token.
  const proc = spawnService(name, { extraFlags: profile, env: { SECRETS_KEY: BENCH_SECRETS_KEY, ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    const ok = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ok) return { url, port, proc, stop: () => new Promise((res) => (proc.once('exit', res), proc.kill('SIGTERM'))) };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready`);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `total` calls of `makeRequest(i)` with `concurrency` in flight; returns rate and latencies. */
export async function load({ total, concurrency, makeRequest, expectStatus }) {
  const latencies = new Float64Array(total);
  let next = 0;
  let unexpected = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        const res = await makeRequest(i);
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.status !== expectStatus) unexpected++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  const pct = (p) => latencies[Math.min(total - 1, Math.floor((p / 100) * total))];
  return { total, seconds, rps: total / seconds, p50: pct(50), p99: pct(99), unexpected };
}

export function machine() {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The p-th percentile (0-100) of ascending-sorted numbers, picked the way load() does. */
export function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The samples of a service's Prometheus `/metrics`: [{ name, labels: {k: v}, value }]. */
export async function scrapeMetrics(url) {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include every pair of `match`. */
export function metricSum(samples, name, match = {}) {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
