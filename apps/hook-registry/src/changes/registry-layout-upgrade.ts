import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { REGISTRY_OBJECT_ID, Streams } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AccountRow, ApiKeyRow, DestinationRow, HookRow } from '../database/rows';
import { DestinationsService } from '../destinations/destinations.service';
import { HookChanges } from '../hooks/hook-changes';
import { OutboxRelay } from './outbox-relay';

const LOCK = 'posthooks:hook_registry:registry_layout';
const ACTION = 'registry.republished';
const OLD_LAYOUT_SUBJECTS = Object.keys(REGISTRY_OBJECT_ID);

/**
 * Brings a REGISTRY written before compaction (SPEC §12) to the compacted layout: there,
 * every change of every object sits on the kind's one subject (`registry.hook.changed`),
 * history and all, and the oldest hook messages hold their secrets in clear.
 *
 * At start, when a message of the old layout is found: the current state of every
 * object is recorded anew from Postgres (one transaction, under an advisory lock and
 * each object's row lock, so it orders with the API's changes), the relay publishes it
 * on the objects' own subjects, and only then are the old subjects purged, so a view
 * starting meanwhile never finds less than the current state. A crash in between finds
 * the old layout again at the next start and does it again (the stream keeps the last
 * message of each object's subject only, so a repeat costs nothing on the stream).
 *
 * Runs after the start, in the background: until it is done the views read the old
 * messages as they did before the upgrade.
 */
@Injectable()
export class RegistryLayoutUpgrade implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('RegistryLayoutUpgrade');
  private stopped = false;
  /** Settles once the upgrade (if any was needed) is done or has failed (tests). */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    private readonly relay: OutboxRelay,
    private readonly accounts: AccountsService,
    private readonly destinations: DestinationsService,
    private readonly hookChanges: HookChanges,
  ) {}

  onApplicationBootstrap(): void {
    this.done = this.upgrade().catch((err: Error) => this.log.error(`REGISTRY not upgraded to the compacted layout yet (next start tries again): ${err.message}`));
  }

  // Before the database closes.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async upgrade(): Promise<void> {
    const old = await this.oldLayoutMessages();
    if (old === 0) return;
    this.log.log(`REGISTRY holds ${old} messages of the layout before compaction: republishing every object's current state, then purging them`);
    const lastOutboxId = await this.republishAll();
    await this.publishedUpTo(lastOutboxId);
    if (this.stopped) return;
    const jsm = await this.nc.jetstreamManager();
    const stream = this.naming.stream(Streams.REGISTRY.name);
    let purged = 0;
    for (const subject of OLD_LAYOUT_SUBJECTS) purged += (await jsm.streams.purge(stream, { filter: this.naming.subject(subject) })).purged;
    this.log.log(`REGISTRY upgraded to the compacted layout: ${purged} old messages purged`);
  }

  /** How many messages sit on the old layout's subjects (exactly `registry.hook.changed`, etc.). */
  private async oldLayoutMessages(): Promise<number> {
    const jsm = await this.nc.jetstreamManager();
    const stream = this.naming.stream(Streams.REGISTRY.name);
    let n = 0;
    for (const subject of OLD_LAYOUT_SUBJECTS) {
      const filter = this.naming.subject(subject);
      n += (await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects?.[filter] ?? 0;
    }
    return n;
  }

  /** Records every object's current state; returns the last outbox id it wrote. */
  private republishAll(): Promise<number> {
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK]);
      // Row locks in the order the API takes them (account, key, destination, hook).
      for (const a of await m.query<AccountRow[]>('SELECT * FROM accounts ORDER BY id FOR UPDATE')) await this.accounts.recordAccount(m, a, ACTION, 'system');
      for (const k of await m.query<ApiKeyRow[]>('SELECT * FROM api_keys ORDER BY id FOR UPDATE')) await this.accounts.recordKey(m, k, ACTION, 'system');
      for (const d of await m.query<DestinationRow[]>('SELECT * FROM destinations ORDER BY id FOR UPDATE')) await this.destinations.record(m, d, ACTION, 'system', false);
      for (const h of await m.query<HookRow[]>('SELECT * FROM hooks ORDER BY id FOR UPDATE')) await this.hookChanges.record(m, h, ACTION, 'system');
      const [{ last }] = await m.query<{ last: string | null }[]>('SELECT max(id) AS last FROM outbox');
      return Number(last ?? 0);
    });
  }

  /** Waits (polling, so an outage costs no busy loop) until the relay published every outbox row up to `id`. */
  private async publishedUpTo(id: number): Promise<void> {
    while (!this.stopped) {
      this.relay.kick();
      const left = await this.db.query<unknown[]>('SELECT 1 FROM outbox WHERE id <= $1 AND set_aside_at IS NULL LIMIT 1', [id]);
      if (left.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
