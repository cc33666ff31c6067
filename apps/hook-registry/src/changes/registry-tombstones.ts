import { Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { RegistrySubject, Streams, Subjects } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import { RetentionSweep } from '@posthooks/runtime';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The kinds whose objects end (accounts never do): the table that says which are still
 * live, and what their last event says when they ended.
 */
const ENDING_KINDS: { subject: RegistrySubject; live: string; ended: (event: Record<string, unknown>) => boolean }[] = [
  { subject: Subjects.HookChanged, live: 'SELECT id FROM hooks WHERE id = ANY($1)', ended: (e) => e.deleted === true },
  { subject: Subjects.DestinationChanged, live: 'SELECT id FROM destinations WHERE id = ANY($1)', ended: (e) => e.deleted === true },
  { subject: Subjects.ApiKeyChanged, live: 'SELECT id FROM api_keys WHERE id = ANY($1) AND revoked_at IS NULL', ended: (e) => e.revoked_at !== null && e.revoked_at !== undefined },
];

/**
 * Whether an object's last REGISTRY message is a tombstone old enough to go: it says the
 * object ended (deleted, revoked) and was stored more than `days` ago.
 */
export function isExpiredTombstone(subject: RegistrySubject, event: unknown, storedAt: Date, now: Date, days: number): boolean {
  const kind = ENDING_KINDS.find((k) => k.subject === subject);
  if (!kind || typeof event !== 'object' || event === null) return false;
  return kind.ended(event as Record<string, unknown>) && now.getTime() - storedAt.getTime() > days * DAY_MS;
}

/**
 * Compacted REGISTRY (SPEC §12): the stream keeps each object's last message, so a
 * deleted hook or destination, or a revoked key, leaves its tombstone (the message that
 * says so) for views that were away. nats-server 2.9 has no per-message age, so this
 * periodic task purges a tombstone's subject once it is REGISTRY_TOMBSTONE_DAYS old.
 * Only objects Postgres no longer has live are looked at, and only a message that says
 * the object ended is purged.
 */
@Injectable()
export class RegistryTombstones extends RetentionSweep {
  constructor(
    private readonly db: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {
    super('RegistryTombstones', env.RETENTION_SWEEP_MS);
  }

  /** `now` is a parameter so a test can look from a week ahead; the ticker passes none. */
  async sweep(now = new Date()): Promise<{ registry_tombstones: number }> {
    const jsm = await this.nc.jetstreamManager();
    const stream = this.naming.stream(Streams.REGISTRY.name);
    let purged = 0;
    for (const kind of ENDING_KINDS) {
      const prefix = `${this.naming.subject(kind.subject)}.`;
      const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}*` });
      const subjects = Object.keys(info.state.subjects ?? {});
      const ids = subjects.map((s) => Number(s.slice(prefix.length))).filter((id) => Number.isSafeInteger(id));
      const live = new Set((await this.db.query<{ id: number }[]>(kind.live, [ids])).map((r) => Number(r.id)));
      for (const id of ids) {
        if (live.has(id) || this.stopping()) continue;
        const subject = `${prefix}${id}`;
        const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => undefined);
        if (!last) continue;
        let event: unknown;
        try {
          event = last.json();
        } catch {
          continue;
        }
        if (!isExpiredTombstone(kind.subject, event, last.time, now, this.env.REGISTRY_TOMBSTONE_DAYS)) continue;
        // Never the stream's last message: a view's start is caught up when it reaches the
        // last sequence (libs/registry-view follow-registry.ts). It goes at a later sweep.
        if (last.seq >= info.state.last_seq) continue;
        purged += (await jsm.streams.purge(stream, { filter: subject })).purged;
      }
    }
    return { registry_tombstones: purged };
  }
}
