import { Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { ApiKeyChangedEvent, isEntitled, Plan, Subjects } from '@posthooks/contracts';
import { generateApiKey, hashApiKey } from '@posthooks/webhooks';
import { DataSource, EntityManager } from 'typeorm';
import { notFound } from '@posthooks/runtime';
import { KnownApiKeys } from '../auth/known-api-keys';
import { ChangeRecorder } from '../changes/change-recorder';
import { OutboxRelay } from '../changes/outbox-relay';
import { AccountRow, ApiKeyRow } from '../database/rows';
import { HookChanges } from '../hooks/hook-changes';
import { CreateAccountDto } from './accounts.dto';

export function accountView(a: AccountRow) {
  return {
    id: a.id,
    name: a.name,
    plan: a.plan,
    notification_email: a.notification_email,
    undeliverable_email: a.undeliverable_email,
    trial_ends_at: a.trial_ends_at?.toISOString() ?? null,
    created_at: a.created_at.toISOString(),
  };
}

type ApiKeyEvent = Omit<ApiKeyChangedEvent, 'changed_by' | 'changed_at'>;

@Injectable()
export class AccountsService {
  constructor(
    private readonly db: DataSource,
    private readonly changes: ChangeRecorder,
    private readonly hookChanges: HookChanges,
    private readonly relay: OutboxRelay,
    private readonly keys: KnownApiKeys,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  async create(dto: CreateAccountDto, actor: string) {
    const result = await this.db.transaction(async (m) => {
      const trialEnds = dto.plan === 'free_trial' ? (dto.trial_ends_at ?? this.trialEndFromNow()) : null;
      const [account] = await m.query<AccountRow[]>('INSERT INTO accounts (name, plan, notification_email, trial_ends_at) VALUES ($1, $2, $3, $4) RETURNING *', [
        dto.name,
        dto.plan,
        dto.notification_email,
        trialEnds,
      ]);
      await this.recordAccount(m, account, 'account.created', actor);
      const key = await this.insertKey(m, account.id, 'owner', actor);
      return { account: { ...accountView(account), api_key: key.api_key }, key };
    });
    this.committedKey(result.key.event);
    return result.account;
  }

  async get(id: number) {
    const [account] = await this.db.query<AccountRow[]>('SELECT * FROM accounts WHERE id = $1', [id]);
    if (!account) throw notFound();
    return accountView(account);
  }

  /** A plan without the entitlement disables every hook at once; an upgrade re-enables none. */
  async changePlan(id: number, plan: Plan, actor: string) {
    const result = await this.db.transaction(async (m) => {
      const account = await this.lockAccount(m, id);
      const trialEnds = plan === 'free_trial' ? (account.trial_ends_at ?? new Date(this.trialEndFromNow())) : account.trial_ends_at;
      const [[updated]] = await m.query<[AccountRow[], number]>('UPDATE accounts SET plan = $2, trial_ends_at = $3, updated_at = now() WHERE id = $1 RETURNING *', [id, plan, trialEnds]);
      await this.recordAccount(m, updated, 'account.plan_changed', actor);
      if (!isEntitled(updated.plan, updated.trial_ends_at)) await this.hookChanges.disableAll(m, id, 'plan_downgrade', actor);
      return accountView(updated);
    });
    this.relay.kick();
    return result;
  }

  async issueKey(accountId: number, label: string, actor: string) {
    const result = await this.db.transaction(async (m) => {
      await this.lockAccount(m, accountId);
      return this.insertKey(m, accountId, label, actor);
    });
    this.committedKey(result.event);
    return { id: result.id, label: result.label, api_key: result.api_key };
  }

  async revokeKey(accountId: number, keyId: number, actor: string) {
    const result = await this.db.transaction(async (m) => {
      const [[key]] = await m.query<[ApiKeyRow[], number]>(
        'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND account_id = $2 RETURNING *',
        [keyId, accountId],
      );
      if (!key) throw notFound();
      const event = await this.recordKey(m, key, 'api_key.revoked', actor);
      return { revoked: { id: key.id, label: key.label, revoked_at: key.revoked_at?.toISOString() ?? null }, event };
    });
    this.committedKey(result.event);
    return result.revoked;
  }

  async setUndeliverableEmail(accountId: number, enabled: boolean, actor: string) {
    const result = await this.db.transaction(async (m) => {
      await this.lockAccount(m, accountId);
      const [[account]] = await m.query<[AccountRow[], number]>('UPDATE accounts SET undeliverable_email = $2, updated_at = now() WHERE id = $1 RETURNING *', [accountId, enabled]);
      await this.recordAccount(m, account, 'account.notifications_changed', actor);
      return { undeliverable_email: account.undeliverable_email };
    });
    this.relay.kick();
    return result;
  }

  /** Serializes every change of one account (plan, hooks, keys) behind its row lock. */
  async lockAccount(m: EntityManager, id: number): Promise<AccountRow> {
    const [account] = await m.query<AccountRow[]>('SELECT * FROM accounts WHERE id = $1 FOR UPDATE', [id]);
    if (!account) throw notFound();
    return account;
  }

  private async insertKey(m: EntityManager, accountId: number, label: string, actor: string) {
    const apiKey = generateApiKey();
    const [key] = await m.query<ApiKeyRow[]>('INSERT INTO api_keys (account_id, label, key_hash) VALUES ($1, $2, $3) RETURNING *', [accountId, label, hashApiKey(apiKey)]);
    const event = await this.recordKey(m, key, 'api_key.issued', actor);
    return { id: key.id, label: key.label, api_key: apiKey, event };
  }

  /** After the commit: this replica knows the key's new state at once, the others through the stream. */
  private committedKey(event: ApiKeyEvent) {
    this.keys.learn(event);
    this.relay.kick();
  }

  recordAccount(m: EntityManager, a: AccountRow, action: string, actor: string) {
    return this.changes.record(m, {
      actor,
      action,
      accountId: a.id,
      objectType: 'account',
      objectId: a.id,
      subject: Subjects.AccountChanged,
      event: {
        account_id: a.id,
        name: a.name,
        plan: a.plan,
        trial_ends_at: a.trial_ends_at?.toISOString() ?? null,
        notification_email: a.notification_email,
        undeliverable_email: a.undeliverable_email,
      },
    });
  }

  async recordKey(m: EntityManager, k: ApiKeyRow, action: string, actor: string): Promise<ApiKeyEvent> {
    const event: ApiKeyEvent = { key_id: k.id, account_id: k.account_id, label: k.label, key_hash: k.key_hash, revoked_at: k.revoked_at?.toISOString() ?? null };
    await this.changes.record(m, { actor, action, accountId: k.account_id, objectType: 'api_key', objectId: k.id, subject: Subjects.ApiKeyChanged, event });
    return event;
  }

  private trialEndFromNow(): string {
    return new Date(Date.now() + this.env.TRIAL_DAYS * 24 * 60 * 60 * 1000).toISOString();
  }
}
