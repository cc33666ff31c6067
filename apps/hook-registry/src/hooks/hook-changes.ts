import { Injectable } from '@nestjs/common';
import { Subjects } from '@posthooks/contracts';
import { isSealed, SecretBox } from '@posthooks/webhooks';
import { EntityManager } from 'typeorm';
import { ChangeRecorder } from '../changes/change-recorder';
import { DisabledReason, HookRow, HookSecretRow } from '../database/rows';

/**
 * Records a hook's change with its full state, as every view of hooks needs it: URL,
 * destination, whether and why it is disabled, and the secrets that sign for it now.
 */
@Injectable()
export class HookChanges {
  constructor(
    private readonly changes: ChangeRecorder,
    private readonly secretBox: SecretBox,
  ) {}

  async record(m: EntityManager, hook: HookRow, action: string, actor: string, deleted = false): Promise<void> {
    const secrets = deleted
      ? []
      : await m.query<HookSecretRow[]>('SELECT * FROM hook_secrets WHERE hook_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY id DESC', [hook.id]);
    await this.changes.record(m, {
      actor,
      action,
      accountId: hook.account_id,
      objectType: 'hook',
      objectId: hook.id,
      subject: Subjects.HookChanged,
      event: {
        hook_id: hook.id,
        account_id: hook.account_id,
        destination_id: hook.destination_id,
        url: hook.url,
        disabled_at: hook.disabled_at?.toISOString() ?? null,
        disabled_reason: hook.disabled_reason,
        // Sealed as stored. A row still in clear (written before SECRETS_KEY, not yet
        // resealed at start) is sealed here, so no secret ever reaches REGISTRY in clear.
        secrets: secrets.map((s) => ({ secret: isSealed(s.secret) ? s.secret : this.secretBox.seal(s.secret), expires_at: s.expires_at?.toISOString() ?? null })),
        deleted,
      },
    });
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
