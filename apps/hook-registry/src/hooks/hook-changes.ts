import { Injectable } from '@nestjs/common';
import { HookChangedEvent, Subjects } from '@posthooks/contracts';
import { isSealed, SecretBox } from '@posthooks/webhooks';
import { EntityManager } from 'typeorm';
import { ChangeRecorder } from '../changes/change-recorder';
import { DisabledReason, HookRow, HookSecretRow, hookSettingsOf } from '../database/rows';

/**
 * Records a hook's change with its full state, as every view of hooks needs it: URL,
 * destination, whether and why it is disabled, the secrets that sign for it now, and its
 * settings (SPEC §9).
 */
@Injectable()
export class HookChanges {
  constructor(
    private readonly changes: ChangeRecorder,
    private readonly secretBox: SecretBox,
  ) {}

  async record(m: EntityManager, hook: HookRow, action: string, actor: string, deleted = false): Promise<void> {
    await this.changes.record(m, {
      actor,
      action,
      accountId: hook.account_id,
      objectType: 'hook',
      objectId: hook.id,
      subject: Subjects.HookChanged,
      event: await this.stateOf(m, hook, deleted),
    });
  }

  /**
   * The hook's full state as its HookChangedEvent carries it: what REGISTRY gets, and what
   * a `hook.verify` request carries. Secrets and header values sealed, never in clear.
   */
  async stateOf(m: EntityManager, hook: HookRow, deleted = false): Promise<Omit<HookChangedEvent, 'changed_by' | 'changed_at'>> {
    const secrets = deleted
      ? []
      : await m.query<HookSecretRow[]>('SELECT * FROM hook_secrets WHERE hook_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY id DESC', [hook.id]);
    // Sealed as stored. A row still in clear (written before SECRETS_KEY, not yet
    // resealed at start) is sealed here, so no secret ever reaches REGISTRY in clear.
    const sealed = (value: string) => (isSealed(value) ? value : this.secretBox.seal(value));
    const settings = hookSettingsOf(hook);
    return {
      hook_id: hook.id,
      account_id: hook.account_id,
      destination_id: hook.destination_id,
      url: hook.url,
      disabled_at: hook.disabled_at?.toISOString() ?? null,
      disabled_reason: hook.disabled_reason,
      secrets: secrets.map((s) => ({ secret: sealed(s.secret), expires_at: s.expires_at?.toISOString() ?? null })),
      // A deleted hook's last message keeps no header value, as it keeps no secret.
      settings: { ...settings, headers: deleted ? [] : settings.headers.map((h) => ({ name: h.name, value: sealed(h.value) })) },
      deleted,
    };
  }

  /**
   * Disables every enabled hook of an account at once (plan downgrade, trial end).
   * Takes the account's row lock first, like hook creation, so none slips through.
   */
  async disableAll(m: EntityManager, accountId: number, reason: DisabledReason, actor: string): Promise<number> {
    const [hooks] = await m.query<[HookRow[], number]>(
      `UPDATE hooks SET disabled_at = now(), disabled_reason = $2, modified_at = now()
       WHERE account_id = $1 AND disabled_at IS NULL RETURNING *`,
      [accountId, reason],
    );
    for (const hook of hooks) await this.record(m, hook, 'hook.disabled', actor);
    return hooks.length;
  }
}
