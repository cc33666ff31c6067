import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { builtInDestinationDatabase, LoadSimulatorEnv } from '@posthooks/config';
import { classifyFailure, Semaphore } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { DestinationNotAllowedError, destinationClientConfig, parseDestinationUrl, resolveDestination } from '@posthooks/webhooks';
import { Client, escapeIdentifier, Pool, PoolClient } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DestinationHealth } from './destination-health';

/** Connections one destination's pool may hold: loads of one integration write one after the other, so a few serve many. */
export const CONNECTIONS_PER_DESTINATION = 4;
/** Transactions open at once over all destinations: with idle pools closed, this bounds the loader's connections. */
export const CONNECTIONS_IN_USE = 32;
/** A pool unused this long is closed (its idle connections go sooner, after IDLE_CONNECTION_MS). */
export const IDLE_POOL_MS = 60_000;
const IDLE_CONNECTION_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * A statement that gets no answer for this long (a destination that accepted the
 * connection and then went silent) fails, as the destination's fault: otherwise it would
 * hold one of CONNECTIONS_IN_USE, and enough silent destinations would stall all loading.
 */
export const QUERY_TIMEOUT_MS = 120_000;

export const destinationUp = new Gauge({ name: 'posthooks_destination_up', help: '1 while the last load into the destination worked, 0 while it is down (its loads wait and are retried)', labelNames: ['destination_id'] as const });
export const destinationFailures = new Counter({ name: 'posthooks_destination_failures_total', help: 'Loads that found their destination down (unreachable, refused, authentication failed)', labelNames: ['destination_id'] as const });

/** What a transaction gets: `query` answers the rows, as TypeORM's EntityManager does. */
export interface Queryable {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * The destination cannot take loads now: its messages are handed back to be retried in
 * `retryInMs`, as an outage (never dead-lettered, never a rejected record). The message
 * says which destination and why, never a password.
 */
export class DestinationUnavailableError extends Error {
  constructor(
    readonly destinationId: number,
    readonly retryInMs: number,
    reason: string,
  ) {
    super(`destination ${destinationId} is down: ${reason}`);
    this.name = 'DestinationUnavailableError';
  }
}

/**
 * SQLSTATEs that say the destination refuses us, whatever we send: class 28 (bad
 * password, role may not log in), 3D000 (no such database), 42501 (CONNECT or CREATE
 * revoked), 25006 (read-only). With what classifyFailure calls an outage (unreachable,
 * cut, full, shutting down) these wait for the destination; any other error may be the
 * batch's and fails it as before.
 */
export function isDestinationFault(err: unknown): boolean {
  if (err instanceof DestinationNotAllowedError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^28[0-9A-Z]{3}$/.test(code) || code === '3D000' || code === '42501' || code === '25006')) return true;
  // pg's client-side query_timeout (QUERY_TIMEOUT_MS).
  if (err instanceof Error && /^Query read timeout$/.test(err.message)) return true;
  return classifyFailure(err) === 'outage';
}

interface Entry {
  /** What the pool was opened for: the sealed URL (a new one closes this pool), or `built-in`. */
  key: string;
  pool: Promise<Pool>;
  lastUsed: number;
  inUse: number;
}

/**
 * One bounded pg Pool per destination (issue 17): the destination's own connection, its
 * host resolved and checked once per pool (the loader connects to the address it
 * checked, as the registry did), or the built-in `posthooks_dest_<id>` on the services'
 * server. A pool opened for an older connection URL is closed as soon as the view has a
 * new one, so new credentials apply to the next load without a restart; pools unused for
 * a minute are closed.
 *
 * A destination that fails (see isDestinationFault) is marked down: one log line a
 * minute and posthooks_destination_up say which and why, and its loads are refused at
 * once (DestinationUnavailableError, the messages retried) until its backoff is over and
 * a load tries again; the first that works marks it up.
 */
@Injectable()
export class DestinationPools implements OnApplicationShutdown {
  private readonly log = new Logger('DestinationPools');
  private readonly pools = new Map<number, Entry>();
  private readonly slots = new Semaphore(CONNECTIONS_IN_USE);
  readonly health = new DestinationHealth();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly view: RegistryView,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), IDLE_POOL_MS / 4).unref();
  }

  /** A DestinationUnavailableError if the destination is down and not due for a try, else undefined. */
  refusal(destinationId: number): DestinationUnavailableError | undefined {
    // A new connection is tried at once, whatever the old one's backoff.
    const current = this.pools.get(destinationId);
    if (current && current.key !== (this.view.destinations.get(destinationId)?.connection_url ?? 'built-in')) this.health.forget(destinationId);
    const wait = this.health.waitFor(destinationId);
    return wait > 0 ? new DestinationUnavailableError(destinationId, wait, 'waiting to try again') : undefined;
  }

  /**
   * Runs `work` in one transaction on the destination's database. Throws
   * DestinationUnavailableError when the destination is down (now, or still in its
   * backoff); the work's own errors otherwise.
   */
  async transaction<T>(destinationId: number, work: (q: Queryable) => Promise<T>): Promise<T> {
    const refused = this.refusal(destinationId);
    if (refused) throw refused;
    const entry = this.entry(destinationId);
    entry.inUse++;
    await this.slots.acquire();
    let client: PoolClient | undefined;
    try {
      try {
        client = await this.connect(destinationId, entry);
      } catch (err) {
        // Whatever stops a session (unreachable, refused, TLS, a name that now resolves where it may not) is the destination's.
        throw this.down(destinationId, err);
      }
      const session = client;
      // A session cut while checked out (its backend killed, the server gone) emits 'error':
      // the query in flight fails with it too, so this listener only keeps the process alive.
      session.on('error', ignore);
      const q: Queryable = { query: async <R>(sql: string, params?: unknown[]) => (await session.query(sql, params)).rows as R };
      await q.query('BEGIN');
      let result: T;
      try {
        result = await work(q);
        await q.query('COMMIT');
      } catch (err) {
        await q.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.up(destinationId);
      return result;
    } catch (err) {
      if (err instanceof DestinationUnavailableError) throw err;
      if (isDestinationFault(err)) throw this.down(destinationId, err);
      throw err;
    } finally {
      // A session that failed is not given back to the pool (it may be broken).
      client?.off('error', ignore);
      client?.release(this.health.isDown(destinationId) || undefined);
      this.slots.release();
      entry.inUse--;
      entry.lastUsed = Date.now();
    }
  }

  /**
   * A session of the destination's pool. A built-in database found missing (the
   * registry's create failed after its commit, or a destination from before issue 17
   * not yet given one by the registry's start) is created here, if this role may.
   */
  private async connect(destinationId: number, entry: Entry): Promise<PoolClient> {
    const pool = await entry.pool;
    try {
      return await pool.connect();
    } catch (err) {
      if (entry.key !== 'built-in' || (err as { code?: unknown }).code !== '3D000') throw err;
      const { name } = builtInDestinationDatabase(this.env.DATABASE_URL, destinationId);
      const admin = new Client({ connectionString: this.env.DATABASE_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      admin.on('error', () => undefined);
      try {
        await admin.connect();
        await admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`).catch((e: { code?: string }) => {
          // Created meanwhile by the registry or another loader.
          if (e.code !== '42P04' && e.code !== '23505') throw e;
        });
        this.log.log(`created the missing built-in database ${name} of destination ${destinationId}`);
      } finally {
        await admin.end().catch(() => undefined);
      }
      return pool.connect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.pools.keys()].map((id) => this.close(id)));
  }

  /** The destination's pool, opened again when its connection changed. */
  private entry(destinationId: number): Entry {
    const destination = this.view.destinations.get(destinationId);
    // Unknown: deleted, or created a moment ago and not in this view yet. Not a destination fault: the message fails as any error does.
    if (!destination) throw new Error(`destination ${destinationId} is not known to the loader (deleted, or not yet in its view)`);
    const key = destination.connection_url ?? 'built-in';
    const current = this.pools.get(destinationId);
    if (current?.key === key) return current;
    if (current) {
      this.log.log(`destination ${destinationId}'s connection changed: its next loads use the new one`);
      void this.close(destinationId);
      this.health.forget(destinationId);
    }
    const pool = this.open(destinationId);
    pool.catch(() => undefined);
    const entry: Entry = { key, pool, lastUsed: Date.now(), inUse: 0 };
    this.pools.set(destinationId, entry);
    return entry;
  }

  private async open(destinationId: number): Promise<Pool> {
    const common = {
      max: CONNECTIONS_PER_DESTINATION,
      idleTimeoutMillis: IDLE_CONNECTION_MS,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'posthooks-loader',
    };
    const text = this.view.destinationConnectionUrl(destinationId);
    let pool: Pool;
    if (text === null) {
      pool = new Pool({ connectionString: builtInDestinationDatabase(this.env.DATABASE_URL, destinationId).url, ...common });
    } else {
      const url = parseDestinationUrl(text);
      if (!url) throw new Error('its connection URL does not parse');
      // Resolved once per pool, and the address checked again: the registry's check was at save time.
      const address = await resolveDestination(url, this.env.ALLOW_PRIVATE_TARGETS);
      pool = new Pool({ ...destinationClientConfig(url, address), ...common });
    }
    // An idle connection that dies: the next load finds out, with its own error.
    pool.on('error', () => undefined);
    return pool;
  }

  private async close(destinationId: number): Promise<void> {
    const entry = this.pools.get(destinationId);
    if (!entry) return;
    this.pools.delete(destinationId);
    // end() waits for the sessions in use to be released.
    await entry.pool.then((pool) => pool.end()).catch(() => undefined);
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [id, entry] of this.pools) if (entry.inUse === 0 && now - entry.lastUsed >= IDLE_POOL_MS) void this.close(id);
  }

  private down(destinationId: number, err: unknown): DestinationUnavailableError {
    const reason = describe(err);
    const { retryInMs, log } = this.health.failed(destinationId);
    destinationUp.set({ destination_id: String(destinationId) }, 0);
    destinationFailures.inc({ destination_id: String(destinationId) });
    if (log) this.log.warn(`destination ${destinationId} is down, its loads wait and are retried (logged at most once a minute): ${reason}`);
    // A pool that cannot connect may hold a stale address or credentials: the next try opens a new one.
    void this.close(destinationId);
    return new DestinationUnavailableError(destinationId, retryInMs, reason);
  }

  private up(destinationId: number): void {
    const back = this.health.succeeded(destinationId);
    destinationUp.set({ destination_id: String(destinationId) }, 1);
    if (back) this.log.log(`destination ${destinationId} is back after ${Math.round(back.downForMs / 1000)} s: its loads resume`);
  }
}

function ignore(): void {
  // Nothing: the failing query reports the error.
}

/** The pg error's code and message (neither carries a password), or a refused address's detail (the operator's log only). */
function describe(err: unknown): string {
  if (err instanceof DestinationNotAllowedError) return `${err.message} (${err.detail})`;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return [typeof code === 'string' ? code : '', typeof message === 'string' ? message : String(err)].filter(Boolean).join(' ');
}
