import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@posthooks/testing';

interface Node {
  name: string;
  client: number;
  route: number;
  monitor: number;
  dir: string;
  proc?: ChildProcess;
  output: string;
}

/**
 * Three local nats-server processes routed into one JetStream cluster, configured as
 * k8s/base/nats.yaml configures its StatefulSet (server_name, jetstream store, cluster
 * `posthooks` with every node's route, connect_retries, lame duck), on loopback ports of
 * their own; without the users include (anonymous, like the other fault scenarios).
 * Nodes can be killed and restarted on their port and store, like a pod.
 */
export class PrivateNatsCluster {
  private constructor(
    private readonly nodes: Node[],
    private readonly root: string,
  ) {}

  /** Every client URL, comma-separated: NATS_URL as the services take it for a cluster. */
  get url(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.client}`).join(',');
  }

  get size(): number {
    return this.nodes.length;
  }

  /**
   * Writes three nodes' configurations and starts `start` of them (all by default); the
   * others wait for startNode(), for a cluster formed late.
   */
  static async create(start = 3): Promise<PrivateNatsCluster> {
    const root = mkdtempSync(join(tmpdir(), 'posthooks-natscluster-'));
    const ports = new Set<number>();
    const port = async () => {
      for (;;) {
        const p = await freePort();
        if (!ports.has(p)) return ports.add(p), p;
      }
    };
    const nodes: Node[] = [];
    for (let i = 0; i < 3; i++) nodes.push({ name: `nats-${i}`, client: await port(), route: await port(), monitor: await port(), dir: join(root, `nats-${i}`), output: '' });
    const routes = nodes.map((n) => `nats://127.0.0.1:${n.route}`).join('\n    ');
    for (const n of nodes) {
      mkdirSync(n.dir);
      writeFileSync(
        join(n.dir, 'nats.conf'),
        `server_name: ${n.name}
listen: 127.0.0.1:${n.client}
http: 127.0.0.1:${n.monitor}
lame_duck_duration: 30s
lame_duck_grace_period: 10s
jetstream {
  store_dir: "${join(n.dir, 'jetstream')}"
  max_memory_store: 256MB
  max_file_store: 2GB
}
cluster {
  name: posthooks
  listen: 127.0.0.1:${n.route}
  routes: [
    ${routes}
  ]
  connect_retries: 120
}
`,
      );
    }
    const cluster = new PrivateNatsCluster(nodes, root);
    try {
      for (let i = 0; i < start; i++) await cluster.startNode(i);
    } catch (err) {
      await cluster.dispose();
      throw err;
    }
    return cluster;
  }

  /** Starts node `i` on its ports and store; resolves once it accepts clients. */
  async startNode(i: number): Promise<void> {
    const n = this.nodes[i];
    if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null) return;
    n.output = '';
    const proc = spawn('nats-server', ['-c', join(n.dir, 'nats.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc = proc;
    const keep = (chunk: Buffer) => (n.output = (n.output + chunk.toString()).slice(-8000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    await waitFor(`${n.name} to accept clients`, async () => {
      if (proc.exitCode !== null) throw new Error(`${n.name} exited (${proc.exitCode}): ${n.output.trim()}`);
      return (await fetch(`http://127.0.0.1:${n.monitor}/healthz`).catch(() => undefined)) !== undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  }

  /** kill -9 of node `i` (a node lost, its store kept); resolves once it is gone. */
  async killNode(i: number): Promise<void> {
    const proc = this.nodes[i].proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** Waits until every running node says JetStream is healthy (a meta leader, its streams current). */
  async healthy(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      'every running NATS node JetStream-healthy',
      async () => {
        for (const n of this.nodes.filter((x) => x.proc && x.proc.exitCode === null && x.proc.signalCode === null)) {
          const res = await fetch(`http://127.0.0.1:${n.monitor}/healthz`).catch(() => undefined);
          if (res?.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** The last output of every node, for a failure message. */
  tails(): string {
    return this.nodes.map((n) => `--- ${n.name}\n${n.output.split('\n').slice(-10).join('\n')}`).join('\n');
  }

  async dispose(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.killNode(i);
    for (const n of this.nodes) {
      n.proc?.stdout?.resume();
      n.proc?.stderr?.resume();
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
