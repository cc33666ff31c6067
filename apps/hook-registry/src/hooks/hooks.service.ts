import { HttpException, Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { ErrorBodies, isEntitled, simpleError, Subjects } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { randomUUID } from 'node:crypto';
import { checkHookUrl, generateSigningSecret, SecretBox } from '@posthooks/webhooks';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { AccountCaller } from '../auth/guards';
import { notFound } from '@posthooks/runtime';
import { OutboxRelay } from '../changes/outbox-relay';
import { HookRow } from '../database/rows';
import { CreateHookBody } from './hook-bodies';
import { HookChanges } from './hook-changes';

/** Old secrets keep signing this long after a rotation, so receivers can switch over. */
const ROTATION_GRACE = '24 hours';

/** The Stitch hook object (SPEC §3), plus why a disabled hook is disabled. */
export function hookView(h: HookRow) {
  return {
    id: h.id,
    client_id: h.account_id,
    type: 'post_load' as const,
    version: 1,
    config: { url: h.url, destination_id: h.destination_id },
    created_at: h.created_at.toISOString(),
    modified_at: h.modified_at.toISOString(),
    disabled_at: h.disabled_at?.toISOString() ?? null,
    disabled_reason: h.disabled_reason,
  };
}

const notEntitled = () => new HttpException(ErrorBodies.notEntitled, 400);

@Injectable()
export class HooksService {
  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly hookChanges: HookChanges,
    private readonly relay: OutboxRelay,
    private readonly publisher: EventPublisher,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
    private readonly secretBox: SecretBox,
  ) {}

  /** Asks the dispatcher for a `ping` to the hook, through the normal delivery path. */
  async test(caller: AccountCaller, id: number) {
    const hook = await this.ownHook(this.db.manager, caller, id);
    if (hook.disabled_at) throw new HttpException(simpleError('the hook is disabled: enable it to test it'), 409);
    const eventId = `ping-${randomUUID()}`;
    await this.publisher.publish(Subjects.HookTest, { hook_id: hook.id, client_id: hook.account_id, event_id: eventId, requested_at: new Date().toISOString() }, { msgId: eventId });
    return { event_id: eventId };
  }

  async create(caller: AccountCaller, body: CreateHookBody) {
    const checked = checkHookUrl(body.url, { allowPrivateTargets: this.env.ALLOW_PRIVATE_TARGETS });
    if (!checked.ok) throw new HttpException(ErrorBodies.invalidUri, 400);
    const result = await this.db.transaction(async (m) => {
      // The account's row lock orders this create after any plan change or other create.
      const account = await this.accounts.lockAccount(m, caller.accountId);
      const [destination] = await m.query<{ id: number }[]>('SELECT id FROM destinations WHERE id = $1 AND account_id = $2', [body.destination_id, caller.accountId]);
      if (!destination) throw notFound();
      if (!isEntitled(account.plan, account.trial_ends_at)) throw notEntitled();
      const hook = await this.insertIntoFreeSlot(m, caller.accountId, body.destination_id, body.url);
      // Shown in clear once, in this answer; stored sealed under SECRETS_KEY (SPEC §12).
      const secret = generateSigningSecret();
      await m.query('INSERT INTO hook_secrets (hook_id, secret) VALUES ($1, $2)', [hook.id, this.secretBox.seal(secret)]);
      await this.hookChanges.record(m, hook, 'hook.created', caller.label);
      return { ...hookView(hook), secret };
    });
    this.relay.kick();
    return result;
  }

  async list(caller: AccountCaller) {
    const hooks = await this.db.query<HookRow[]>('SELECT * FROM hooks WHERE account_id = $1 ORDER BY id', [caller.accountId]);
    return { post_load: hooks.map(hookView) };
  }

  /** Enabling needs the entitlement; disabling never does. */
  async setEnabled(caller: AccountCaller, id: number, enable: boolean) {
    const result = await this.db.transaction(async (m) => {
      const account = await this.accounts.lockAccount(m, caller.accountId);
      const hook = await this.ownHook(m, caller, id, true);
      if (enable && !isEntitled(account.plan, account.trial_ends_at)) throw notEntitled();
      if (enable === (hook.disabled_at === null)) return hookView(hook);
      const [[updated]] = await m.query<[HookRow[], number]>(
        enable
          ? 'UPDATE hooks SET disabled_at = NULL, disabled_reason = NULL, modified_at = now() WHERE id = $1 RETURNING *'
          : `UPDATE hooks SET disabled_at = now(), disabled_reason = 'manual', modified_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
      await this.hookChanges.record(m, updated, enable ? 'hook.enabled' : 'hook.disabled', caller.label);
      return hookView(updated);
    });
    this.relay.kick();
    return result;
  }

  async delete(caller: AccountCaller, id: number): Promise<void> {
    await this.db.transaction(async (m) => {
      await this.accounts.lockAccount(m, caller.accountId);
      // The hook's row lock first: a rotation in flight commits (and draws its outbox id)
      // before this delete records its event, so the stream ends with the delete.
      const hook = await this.ownHook(m, caller, id, true);
      await this.hookChanges.record(m, hook, 'hook.deleted', caller.label, true);
      await m.query('DELETE FROM hooks WHERE id = $1', [id]);
    });
    this.relay.kick();
  }

  /**
   * A receiver answered 410 Gone: disable the hook, unless it changed since (deleted, or
   * pointed at another URL), as the `system`.
   */
  async disableGone(hookId: number, accountId: number, url: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const [[hook]] = await m.query<[HookRow[], number]>(
        `UPDATE hooks SET disabled_at = now(), disabled_reason = 'endpoint_gone', modified_at = now()
         WHERE id = $1 AND account_id = $2 AND url = $3 AND disabled_at IS NULL RETURNING *`,
        [hookId, accountId, url],
      );
      if (hook) await this.hookChanges.record(m, hook, 'hook.disabled', 'system');
    });
    this.relay.kick();
  }

  /**
   * A new secret; the one it replaces keeps signing for 24 h beside it. Only those two:
   * a secret already on its way out ends now, so rotations in a row never pile secrets
   * up (each would travel in every event of the hook and sign every delivery).
   */
  async rotateSecret(caller: AccountCaller, id: number) {
    const result = await this.db.transaction(async (m) => {
      const hook = await this.ownHook(m, caller, id, true);
      await m.query('DELETE FROM hook_secrets WHERE hook_id = $1 AND expires_at IS NOT NULL', [id]);
      await m.query(`UPDATE hook_secrets SET expires_at = now() + interval '${ROTATION_GRACE}' WHERE hook_id = $1 AND expires_at IS NULL`, [id]);
      const secret = generateSigningSecret();
      await m.query('INSERT INTO hook_secrets (hook_id, secret) VALUES ($1, $2)', [id, this.secretBox.seal(secret)]);
      await this.hookChanges.record(m, hook, 'hook.secret_rotated', caller.label);
      return { secret };
    });
    this.relay.kick();
    return result;
  }

  /**
   * Another account's hook is as unknown as a hook that does not exist. `lock` takes the
   * hook's row lock: every change of a hook takes it before recording its event, so one
   * hook's events get their outbox ids in the order the changes commit.
   */
  private async ownHook(m: EntityManager, caller: AccountCaller, id: number, lock = false): Promise<HookRow> {
    const [hook] = await m.query<HookRow[]>(`SELECT * FROM hooks WHERE id = $1 AND account_id = $2${lock ? ' FOR UPDATE' : ''}`, [id, caller.accountId]);
    if (!hook) throw notFound();
    return hook;
  }

  /**
   * Takes the lowest of the ten slots that is free. The unique (account, slot) constraint
   * is the guarantee; the account lock held by the caller only spares us the retries.
   */
  private async insertIntoFreeSlot(m: EntityManager, accountId: number, destinationId: number, url: string): Promise<HookRow> {
    try {
      const [hook] = await m.query<HookRow[]>(
        `INSERT INTO hooks (account_id, destination_id, slot, url)
         SELECT $1, $2, s, $3 FROM generate_series(1, 10) s
         WHERE s NOT IN (SELECT slot FROM hooks WHERE account_id = $1)
         ORDER BY s LIMIT 1
         RETURNING *`,
        [accountId, destinationId, url],
      );
      if (!hook) throw new HttpException(ErrorBodies.hookLimit, 400);
      return hook;
    } catch (err) {
      if (err instanceof QueryFailedError && (err as QueryFailedError & { code?: string }).code === '23505') throw new HttpException(ErrorBodies.hookLimit, 400);
      throw err;
    }
  }
}
