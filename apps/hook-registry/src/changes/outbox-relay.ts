import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Subject } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';

const RELAY_LOCK = 'posthooks:hook_registry:outbox';

let countPending: () => Promise<number> = async () => 0;
new Gauge({
  name: 'posthooks_registry_outbox_pending',
  help: 'Committed registry changes not yet published to the REGISTRY stream',
  async collect() {
    this.set(await countPending());
  },
});
const BATCH = 500;

/**
 * Publishes outbox rows to JetStream in commit order, then deletes them. One relay at a
 * time across replicas (a transaction advisory lock), so the REGISTRY stream holds each
 * object's changes in the order they happened. The message id is the outbox id: a crash
 * between publish and delete re-publishes, and JetStream drops the duplicate.
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
    countPending = async () => Number((await this.db.query<{ n: string }[]>('SELECT count(*) AS n FROM outbox'))[0].n);
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
      const [{ n }] = await this.db.query<{ n: string }[]>('SELECT count(*) AS n FROM outbox');
      if (n === '0') return;
      this.kick();
      await this.running;
    }
  }

  private async drain(): Promise<void> {
    for (;;) {
      const published = await this.db.transaction(async (m) => {
        const [{ locked }] = await m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [RELAY_LOCK]);
        if (!locked) return 0;
        const rows = await m.query<{ id: string; subject: Subject; payload: never }[]>('SELECT id, subject, payload FROM outbox ORDER BY id LIMIT $1', [BATCH]);
        for (const row of rows) await this.publisher.publish(row.subject, row.payload, { msgId: `registry-outbox-${row.id}` });
        if (rows.length > 0) await m.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
        return rows.length;
      });
      if (published < BATCH) return;
    }
  }
}
