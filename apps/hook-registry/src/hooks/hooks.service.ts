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
import { HookRow, hookSettingsOf } from '../database/rows';
import { CreateHookBody, invalidSettingsBody } from './hook-bodies';
import { HookChanges } from './hook-changes';
import { applySettings, changesSettings, settingsView, SettingsUpdate } from './hook-settings';
import { HookVerifier } from './hook-verifier';

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

/** The hook object of the extension routes: the Stitch one plus its settings, header values masked (SPEC §9). */
export function hookWithSettingsView(h: HookRow) {
  return { ...hookView(h), settings: settingsView(hookSettingsOf(h)) };
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
    private readonly verifier: HookVerifier,
  ) {}

  /** One hook with its settings (`GET /v1/hooks/{id}`). */
  async get(caller: AccountCaller, id: number) {
    return hookWithSettingsView(await this.ownHook(this.db.manager, caller, id));
  }

  /**
   * Saves the settings a body gives (under the hook's row lock, so concurrent updates
   * apply one after the other, each on the result of the last) and publishes the hook's
   * new state like every change. Allowed on a disabled hook and without the entitlement:
   * settings enable nothing. `verify` pings the hook as just saved, after the commit;
   * on a disabled hook it is refused (409, like /test) before anything is saved.
   */
  async updateSettings(caller: AccountCaller, id: number, update: SettingsUpdate) {
    const { hook, verifyRequest } = await this.db.transaction(async (m) => {
      let hook = await this.ownHook(m, caller, id, true);
      if (update.verify && hook.disabled_at) throw new HttpException(simpleError('the hook is disabled: enable it to verify it'), 409);
      if (changesSettings(update)) {
        const applied = applySettings(hookSettingsOf(hook), update, (clear) => this.secretBox.seal(clear));
        if (!applied.ok) throw invalidSettingsBody(applied.message);
        const settings = applied.value;
        [[hook]] = await m.query<[HookRow[], number]>(
          `UPDATE hooks SET event_types = $2, integration_names = $3, table_names = $4, headers = $5, rate_limit_per_s = $6, modified_at = now()
           WHERE id = $1 RETURNING *`,
          [id, settings.event_types, settings.integration_names, settings.table_names, JSON.stringify(settings.headers), settings.rate_limit_per_s],
        );
        await this.hookChanges.record(m, hook, 'hook.settings_changed', caller.label);
      }
      if (!update.verify) return { hook, verifyRequest: undefined };
      const now = new Date().toISOString();
      const state = await this.hookChanges.stateOf(m, hook);
      return { hook, verifyRequest: { event_id: `ping-${randomUUID()}`, requested_at: now, hook: { ...state, changed_by: caller.label, changed_at: now } } };
    });
    this.relay.kick();
    const view = hookWithSettingsView(hook);
    return verifyRequest ? { ...view, verify: await this.verifier.verify(verifyRequest) } : view;
  }

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
