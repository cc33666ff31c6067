import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SEALED_PREFIX, SecretBox } from '@posthooks/webhooks';
import { DataSource } from 'typeorm';
import { HookRow, HookSecretRow } from '../database/rows';
import { HookChanges } from './hook-changes';

const BATCH = 200;

/**
 * At start, before the API answers: every hook secret and custom header value in Postgres
 * not sealed under the current SECRETS_KEY (in clear, from before encryption; or under a key now in
 * SECRETS_KEY_PREVIOUS) is sealed again, and the hook's state is published anew so the
 * views get it sealed under the current key. After one start with the new key the
 * previous one can be dropped (README, "Rotating SECRETS_KEY").
 *
 * A secret sealed under a key the registry no longer holds stops the start with the key
 * id: signing with it is impossible, and dropping it silently would break a receiver.
 */
@Injectable()
export class HookSecretsReseal implements OnModuleInit {
  private readonly log = new Logger('HookSecretsReseal');

  constructor(
    private readonly db: DataSource,
    private readonly secretBox: SecretBox,
    private readonly hookChanges: HookChanges,
  ) {}

  async onModuleInit(): Promise<void> {
    const resealed = await this.resealAll();
    // A count and the key id only: neither tells anything about a secret.
    if (resealed > 0) this.log.log(`sealed the secrets of ${resealed} hooks under key ${this.secretBox.keyId}`);
  }

  /** Reseals what needs it; returns how many hooks it changed. The OutboxRelay publishes their events. */
  async resealAll(): Promise<number> {
    const current = `${SEALED_PREFIX}${this.secretBox.keyId}:%`;
    let resealed = 0;
    for (;;) {
      const due = await this.db.query<{ hook_id: number }[]>(
        `SELECT hook_id FROM hook_secrets WHERE secret NOT LIKE $1
         UNION SELECT id FROM hooks WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(headers) h WHERE h->>'value' NOT LIKE $1)
         ORDER BY hook_id LIMIT $2`,
        [current, BATCH],
      );
      if (due.length === 0) return resealed;
      for (const { hook_id } of due) if (await this.resealHook(hook_id)) resealed++;
    }
  }

  /** One hook, under its row lock (as every hook change), so two registries starting together reseal it once. */
  private resealHook(hookId: number): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const [hook] = await m.query<HookRow[]>('SELECT * FROM hooks WHERE id = $1 FOR UPDATE', [hookId]);
      if (!hook) return false;
      const rows = await m.query<HookSecretRow[]>('SELECT * FROM hook_secrets WHERE hook_id = $1', [hookId]);
      const stale = rows.filter((row) => this.secretBox.needsReseal(row.secret));
      const staleHeaders = hook.headers.some((header) => this.secretBox.needsReseal(header.value));
      if (stale.length === 0 && !staleHeaders) return false;
      for (const row of stale) await m.query('UPDATE hook_secrets SET secret = $2 WHERE id = $1', [row.id, this.secretBox.seal(this.secretBox.open(row.secret))]);
      let current = hook;
      if (staleHeaders) {
        const headers = hook.headers.map((header) => (this.secretBox.needsReseal(header.value) ? { name: header.name, value: this.secretBox.seal(this.secretBox.open(header.value)) } : header));
        [[current]] = await m.query<[HookRow[], number]>('UPDATE hooks SET headers = $2 WHERE id = $1 RETURNING *', [hookId, JSON.stringify(headers)]);
      }
      await this.hookChanges.record(m, current, 'hook.secrets_resealed', 'system');
      return true;
    });
  }
}
