import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { isRegistrySubject, registryObjectId, Subject, validateEvent } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { Counter, Gauge } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { classifyPublishFailure } from './publish-failure';

const RELAY_LOCK = 'posthooks:hook_registry:outbox';

let countPending: () => Promise<number> = async () => 0;
new Gauge({
  name: 'posthooks_registry_outbox_pending',
  help: 'Committed registry changes not yet published to the REGISTRY stream (set-aside ones excluded)',
  async collect() {
    this.set(await countPending());
  },
});
const setAside = new Counter({
  name: 'posthooks_registry_events_set_aside_total',
  help: 'Registry events that could never be published (over the payload limit, refused by the stream), set aside in the outbox',
  labelNames: ['subject'],
});
const BATCH = 500;
const PENDING = 'SELECT count(*) AS n FROM outbox WHERE set_aside_at IS NULL';

/**
 * Publishes outbox rows to JetStream in id order, then deletes them. One relay at a time
 * across replicas (a transaction advisory lock). Ids of one object's changes are in
 * commit order because every change takes the object's row lock before it records its
 * event (the id is drawn after the previous change of that object committed), so the
 * REGISTRY stream holds each object's changes in the order they happened, each on the
 * object's own subject, where the stream keeps the last one only (compacted, SPEC §12). The message id
 * is the outbox id: a crash between publish and delete re-publishes, and JetStream drops
 * the duplicate.
 *
 * A failure that can pass (NATS down) stops the run: the row and those after it are
 * tried again, in order, on the next run. A row that can never be published (over the
 * payload limit, refused by the stream, not a valid event) is set aside: marked in the
 * table with the reason, logged and counted, and the rows after it go on.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('OutboxRelay');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly db: DataSource,
    private readonly publisher: EventPublisher,
  ) {}

  onApplicationBootstrap(): void {
    countPending = async () => Number((await this.db.query<{ n: string }[]>(PENDING))[0].n);
    // The poll catches what another replica committed, or a publish that failed.
    this.timer = setInterval(() => this.kick(), 1000);
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Publish now (after a commit); coalesces calls while a run is going. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: Error) => this.log.warn(`outbox not published yet: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when everything committed so far is published (tests and shutdown). */
  async flushed(): Promise<void> {
    for (;;) {
      await this.running;
      const [{ n }] = await this.db.query<{ n: string }[]>(PENDING);
      if (n === '0') return;
      this.kick();
      await this.running;
    }
  }

  private async drain(): Promise<void> {
    for (;;) {
      const run = await this.db.transaction(async (m) => {
        const [{ locked }] = await m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [RELAY_LOCK]);
        if (!locked) return { read: 0 };
        const rows = await m.query<OutboxRow[]>('SELECT id, subject, payload FROM outbox WHERE set_aside_at IS NULL ORDER BY id LIMIT $1', [BATCH]);
        const published: string[] = [];
        let failure: Error | undefined;
        for (const row of rows) {
          const outcome = await this.publishOrSetAside(m, row);
          if (outcome instanceof Error) {
            failure = outcome;
            break;
          }
          if (outcome === 'published') published.push(row.id);
        }
        if (published.length > 0) await m.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [published]);
        return { read: rows.length, failure };
      });
      if (run.failure) throw run.failure;
      if (run.read < BATCH) return;
    }
  }

  /**
   * Publishes one row. Returns the error when the publish may succeed later (the run
   * stops there); sets the row aside when it never can.
   */
  private async publishOrSetAside(m: EntityManager, row: OutboxRow): Promise<'published' | 'set aside' | Error> {
    let reason: string;
    const checked = validateEvent(row.subject, row.payload);
    if (checked.ok) {
      try {
        // On the object's own subject (`registry.hook.changed.42`): REGISTRY keeps its last message only.
        const key = isRegistrySubject(row.subject) ? String(registryObjectId(row.subject, row.payload)) : undefined;
        await this.publisher.publish(row.subject, row.payload, { msgId: `registry-outbox-${row.id}`, key });
        return 'published';
      } catch (err) {
        const failure = classifyPublishFailure(err);
        if (failure.kind === 'transient') return err instanceof Error ? err : new Error(String(err));
        reason = failure.reason;
      }
    } else {
      reason = `not a valid event: ${checked.reason}`;
    }
    // Marked, not deleted: the row stays for an operator to see (and re-queue by clearing set_aside_at).
    await m.query('UPDATE outbox SET set_aside_at = now(), set_aside_reason = $2 WHERE id = $1', [row.id, reason]);
    setAside.inc({ subject: row.subject });
    this.log.error(`registry event #${row.id} (${row.subject}) set aside, it can never be published: ${reason}`);
    return 'set aside';
  }
}

interface OutboxRow {
  id: string;
  subject: Subject;
  payload: never;
}
