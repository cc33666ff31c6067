import { dispatcherIdle, PrivateNatsServer, waitFor } from '@posthooks/testing';
import { NatsConnection } from 'nats';
import { Behaviour, CountingReceiver, tally } from './counting-receiver';
import { publishLoads, streamCount, testConnection, undeliverables } from './events';
import { FaultStack, FaultStackOptions } from './fault-stack';
import { PrivateNatsCluster } from './nats-cluster';
import { report } from './report';

/** waitFor, but a timeout says where things stood (counts, service output). */
export async function waitOrExplain<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, explain: () => string | Promise<string>): Promise<T> {
  try {
    return await waitFor(what, check, { timeoutMs, intervalMs: 100 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await explain()}`, { cause: err });
  }
}

/** Seconds since `t0` (a Date.now()). */
export const since = (t0: number): number => (Date.now() - t0) / 1000;

/**
 * What a fault scenario holds, so afterAll can release all of it whatever happened:
 * its own nats-server (file storage), its stack, the test's connection, the receivers,
 * and anything else it started (a Postgres cluster, an SMTP server).
 */
export class Scenario {
  private natsServer?: PrivateNatsServer;
  private natsCluster?: PrivateNatsCluster;
  private started?: { stack: FaultStack; nc: NatsConnection };
  readonly receivers: CountingReceiver[] = [];
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  readonly t0 = Date.now();

  static async begin(): Promise<Scenario> {
    const s = new Scenario();
    s.natsServer = await PrivateNatsServer.start();
    return s;
  }

  /** A scenario on a 3-node JetStream cluster (the scenario disposes of it at the end). */
  static onCluster(cluster: PrivateNatsCluster): Scenario {
    const s = new Scenario();
    s.natsCluster = cluster;
    return s;
  }

  async startStack(name: string, options: FaultStackOptions = {}): Promise<FaultStack> {
    const stack = await FaultStack.start(name, { url: this.natsUrl }, options);
    this.started = { stack, nc: await testConnection(this.natsUrl) };
    return stack;
  }

  /** The NATS_URL of the scenario's server, or of every node of its cluster. */
  get natsUrl(): string {
    return this.natsCluster?.url ?? this.nats.url;
  }

  /** The scenario's own nats-server. */
  get nats(): PrivateNatsServer {
    if (!this.natsServer) throw new Error('Scenario.begin() first');
    return this.natsServer;
  }

  get stack(): FaultStack {
    if (!this.started) throw new Error('startStack() first');
    return this.started.stack;
  }

  /** The test's own connection to the scenario's nats-server (reconnects after a restart). */
  get nc(): NatsConnection {
    if (!this.started) throw new Error('startStack() first');
    return this.started.nc;
  }

  get ns(): string {
    return this.stack.env.NATS_NAMESPACE;
  }

  /** Waits until the dispatcher has nothing pending: no message, no delivery waiting or under way. */
  async dispatcherIdle(timeoutMs: number): Promise<void> {
    await dispatcherIdle(await this.nc.jetstreamManager(), this.ns, this.stack.env.DATABASE_URL, timeoutMs);
  }

  async receiver(name: string, behaviour?: Behaviour, tls?: 'trusted' | 'untrusted'): Promise<CountingReceiver> {
    const r = await CountingReceiver.start(name, behaviour, tls);
    this.receivers.push(r);
    return r;
  }

  onCleanup(fn: () => Promise<unknown>): void {
    this.cleanups.push(fn);
  }

  /** Releases everything, in reverse order of need; never throws. */
  async end(): Promise<void> {
    await this.started?.nc.close().catch(() => undefined);
    await this.started?.stack.stop().catch(() => undefined);
    await Promise.all(this.receivers.map((r) => r.close().catch(() => undefined)));
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
    await this.natsServer?.dispose().catch(() => undefined);
    await this.natsCluster?.dispose().catch(() => undefined);
  }

  /** One line of where deliveries stand, and each process's state and last output. */
  async explain(eventIds: string[]): Promise<string> {
    const t = tally(this.receivers, eventIds);
    const stack = this.started?.stack;
    const health = stack ? (await stack.health()).lines.join('\n') : '';
    return `delivered ${t.unique}/${t.expected}, missing e.g. ${t.missing.slice(0, 5).join(' ')}; requests ${this.receivers.map((r) => `${r.name}=${r.requests}`).join(' ')}\n${health}\n${stack?.tails() ?? ''}`;
  }
}

export interface MidStreamOptions {
  /** The FAULT line's name. */
  title: string;
  events: number;
  /** Receivers, one hook each; every one of them must eventually take every event. */
  behaviours: Behaviour[];
  /** Deliveries (of events × hooks) done before the fault is caused. */
  faultAfter: number;
  /** Causes the fault and returns once it is over (or returns at once to let it heal by itself); a note for the report. */
  fault: () => Promise<string | undefined>;
  /** Events published after the fault (beyond `events`), to see consumers take new work. */
  eventsAfterFault?: number;
  timeoutMs?: number;
}

/**
 * The common shape: hooks for each receiver, `events` load events published and acked
 * by JetStream, the fault in the middle of the deliveries, then every event must reach
 * every receiver, the dispatcher must end idle (nothing pending or unacked), no
 * hook.undeliverable, and every process must still be running and ready.
 */
export async function midStream(s: Scenario, o: MidStreamOptions): Promise<void> {
  const { stack, nc } = s;
  for (const [i, b] of o.behaviours.entries()) await s.receiver(`r${i}`, b);
  const acc = await stack.account();
  for (const r of s.receivers) await stack.hook(acc.key, acc.destinationId, r.url());
  await stack.registryApplied('dispatcher');

  const prefix = o.title.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const ids = await publishLoads(nc, s.ns, acc.id, prefix, o.events);
  await waitOrExplain(`${o.faultAfter} deliveries before the fault`, () => tally(s.receivers, ids).unique >= o.faultAfter, 60_000, () => s.explain(ids));
  const atFault = tally(s.receivers, ids).unique;
  const linesAtFault = new Map(stack.all().map((p) => [p, p.lines.length]));
  const note = await o.fault();
  if (o.eventsAfterFault) ids.push(...(await publishLoads(nc, s.ns, acc.id, prefix, o.eventsAfterFault, o.events)));
  const events = o.events + (o.eventsAfterFault ?? 0);

  let failure: unknown;
  try {
    await waitOrExplain('every delivery', () => tally(s.receivers, ids).lost === 0, o.timeoutMs ?? 120_000, () => s.explain(ids));
    await s.dispatcherIdle(60_000);
  } catch (err) {
    failure = err;
  }
  const t = tally(s.receivers, ids);
  const stored = await streamCount(nc, s.ns, 'LOADS').catch(() => -1);
  const undeliverable = [...(await undeliverables(nc, s.ns).catch(() => new Map<number, string[]>())).values()].flat().length;
  const health = await stack.health();
  // Proof the fault was felt: what the processes that lived through it logged since.
  const complaints = [...linesAtFault].reduce((n, [p, from]) => n + p.lines.slice(from).filter((l) => /"level":"(warn|error|fatal)"/.test(l)).length, 0);
  report({
    name: o.title,
    events,
    expected: t.expected,
    delivered: t.unique,
    duplicates: t.duplicates,
    lost: t.lost,
    notes: [`fault at ${atFault}/${t.expected} delivered`, note, `${complaints} warnings/errors logged since by the processes that lived through it`, `LOADS stored ${stored}`, `hook.undeliverable ${undeliverable}`, health.ok ? 'all services ready after' : 'NOT all services ready after'].filter(Boolean).join('; '),
    seconds: since(s.t0),
  });
  if (failure) throw failure;

  expect(stored).toBe(events);
  expect(t.missing).toEqual([]);
  expect(t.unique).toBe(t.expected);
  expect(undeliverable).toBe(0);
  expect(health.lines.filter((l) => !l.endsWith('ready 200'))).toEqual([]);
}
