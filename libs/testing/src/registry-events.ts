import { EventOf, HookChangedEvent, isRegistrySubject, Plan, registryObjectId, Subject, Subjects, validateEvent } from '@posthooks/contracts';
import { generateApiKey, generateSigningSecret, hashApiKey, isSealed, SecretBox } from '@posthooks/webhooks';
import { TEST_SECRETS_KEY } from './test-env';
import type { JetStreamClient, NatsConnection } from 'nats';

let nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);

/**
 * The registry's side of the contract for tests of the services that consume it: the
 * REGISTRY events the registry publishes when accounts, keys, destinations and hooks
 * change. (The registry itself is tested against these same events in its own tests.)
 */
export class RegistryEvents {
  private readonly js: JetStreamClient;
  /** Seals hook secrets under the tests' SECRETS_KEY, as the registry does under its own. */
  private readonly secretBox = new SecretBox(TEST_SECRETS_KEY);
  private readonly publisher = {
    // Checked against the contract, published on the namespaced subject, as the registry does
    // (written here rather than with @posthooks/messaging, which tests with this kit).
    publish: async <S extends Subject>(subject: S, event: EventOf<S>, opts: { msgId: string }) => {
      const checked = validateEvent(subject, event);
      if (!checked.ok) throw new Error(checked.reason);
      // On the object's own subject (`registry.hook.changed.42`): REGISTRY is compacted.
      const keyed = isRegistrySubject(subject) ? `${subject}.${registryObjectId(subject, event)}` : subject;
      await this.js.publish(this.namespace ? `${this.namespace}.${keyed}` : keyed, JSON.stringify(event), { msgID: opts.msgId });
    },
  };

  constructor(
    nc: NatsConnection,
    private readonly namespace: string,
  ) {
    this.js = nc.jetstream();
  }

  private changed() {
    return { changed_by: 'test', changed_at: new Date().toISOString() };
  }

  /** An account with one API key; returns its id and the key (plain text). */
  async account(plan: Plan = 'advanced', opts: { trialEndsAt?: string | null; email?: string; undeliverableEmail?: boolean } = {}): Promise<{ id: number; key: string; keyHash: string }> {
    const id = nextId++;
    const key = generateApiKey();
    await this.setAccount(id, plan, opts);
    await this.publisher.publish(Subjects.ApiKeyChanged, { key_id: id, account_id: id, label: 'owner', key_hash: hashApiKey(key), revoked_at: null, ...this.changed() }, { msgId: `test-key-${id}` });
    return { id, key, keyHash: hashApiKey(key) };
  }

  async setAccount(id: number, plan: Plan, opts: { trialEndsAt?: string | null; email?: string; undeliverableEmail?: boolean } = {}): Promise<void> {
    await this.publisher.publish(
      Subjects.AccountChanged,
      { account_id: id, name: `acme ${id}`, plan, trial_ends_at: opts.trialEndsAt ?? null, notification_email: opts.email ?? `data+${id}@acme.test`, undeliverable_email: opts.undeliverableEmail ?? true, ...this.changed() },
      { msgId: `test-account-${id}-${nextId++}` },
    );
  }

  /** `connectionUrl`: the destination's own Postgres (published sealed, as the registry does); without it, the built-in database. */
  async destination(accountId: number, opts: { deleted?: boolean; id?: number; connectionUrl?: string } = {}): Promise<number> {
    const id = opts.id ?? nextId++;
    const connection_url = opts.connectionUrl ? this.secretBox.seal(opts.connectionUrl) : null;
    await this.publisher.publish(
      Subjects.DestinationChanged,
      { destination_id: id, account_id: accountId, name: 'warehouse', type: 'postgres', connection_url, deleted: opts.deleted ?? false, ...this.changed() },
      { msgId: `test-destination-${id}-${nextId++}` },
    );
    return id;
  }

  /** Publishes the hook with its secrets sealed; returns it with them in clear (for the test to verify signatures). */
  async hook(accountId: number, url: string, opts: { destinationId?: number; secrets?: HookChangedEvent['secrets'] } = {}): Promise<HookChangedEvent> {
    const hook: HookChangedEvent = {
      hook_id: nextId++,
      account_id: accountId,
      destination_id: opts.destinationId ?? 1,
      url,
      disabled_at: null,
      disabled_reason: null,
      secrets: opts.secrets ?? [{ secret: generateSigningSecret(), expires_at: null }],
      deleted: false,
      ...this.changed(),
    };
    const sealed = hook.secrets.map((s) => ({ ...s, secret: isSealed(s.secret) ? s.secret : this.secretBox.seal(s.secret) }));
    await this.publisher.publish(Subjects.HookChanged, { ...hook, secrets: sealed }, { msgId: `test-hook-${hook.hook_id}-${nextId++}` });
    return hook;
  }
}
