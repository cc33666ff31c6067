import { Inject, Injectable, Optional } from '@nestjs/common';
import { AccountChangedEvent, ApiKeyChangedEvent, DestinationChangedEvent, HookChangedEvent, isEntitled, Subjects } from '@posthooks/contracts';
import { isSealed } from '@posthooks/webhooks';
import { settingsOf } from './hook-selection';

type RegistryEvent = AccountChangedEvent | ApiKeyChangedEvent | DestinationChangedEvent | HookChangedEvent;

/** Opens a sealed signing secret (a SecretBox of @posthooks/webhooks under SECRETS_KEY). */
export interface SecretOpener {
  open(sealed: string): string;
}

/**
 * A hook's custom headers opened, as [name, value] pairs, or why they cannot be (naming
 * the header, never a value): sealed under a key this service lacks, or not sealed at all
 * (the registry seals every value; a value in clear on REGISTRY is not the registry's).
 */
export type OpenedHeaders = { ok: true; headers: [string, string][] } | { ok: false; error: string };

/** The token under which a service that signs gives its view the SecretBox. */
export const VIEW_SECRET_OPENER = Symbol('VIEW_SECRET_OPENER');

/** The token under which the service that loads (the load-simulator) gives its view the SecretBox for destinations' connections. */
export const VIEW_DESTINATION_OPENER = Symbol('VIEW_DESTINATION_OPENER');

/**
 * What a service knows of accounts, keys, destinations and hooks, built only from the
 * registry's events (each carries its object's full state, so applying them in stream
 * order gives the current state). Services answer from it without calling the registry.
 */
@Injectable()
export class RegistryView {
  readonly accounts = new Map<number, AccountChangedEvent>();
  readonly keysByHash = new Map<string, ApiKeyChangedEvent>();
  readonly destinations = new Map<number, DestinationChangedEvent>();
  readonly hooks = new Map<number, HookChangedEvent>();
  /** Last REGISTRY stream sequence applied (set by followRegistry): the view is current when it reaches the stream's last. */
  sequence = 0;
  /** Each account's hook ids: a load event looks up its account's few hooks, not all of them. */
  private readonly hookIdsByAccount = new Map<number, Set<number>>();

  /**
   * @param secrets Only for a service that signs (the dispatcher): the view keeps hooks'
   *   sealed secrets and opens them in `signingSecrets`. Without it, the view drops every
   *   secret and every custom header as it applies an event, so the gateway's, notifier's
   *   and simulator's memory holds none, not even sealed (SPEC §12).
   */
  constructor(
    @Optional() @Inject(VIEW_SECRET_OPENER) private readonly secrets?: SecretOpener,
    /** Only for the service that loads: the view keeps destinations' sealed connection URLs; others drop them as they apply. */
    @Optional() @Inject(VIEW_DESTINATION_OPENER) private readonly destinationSecrets?: SecretOpener,
  ) {}

  apply(subject: string, event: RegistryEvent): void {
    switch (subject) {
      case Subjects.AccountChanged:
        this.accounts.set((event as AccountChangedEvent).account_id, event as AccountChangedEvent);
        break;
      case Subjects.ApiKeyChanged:
        this.keysByHash.set((event as ApiKeyChangedEvent).key_hash, event as ApiKeyChangedEvent);
        break;
      case Subjects.DestinationChanged: {
        const d = this.destinationSecrets ? (event as DestinationChangedEvent) : { ...(event as DestinationChangedEvent), connection_url: null };
        if (d.deleted) this.destinations.delete(d.destination_id);
        else this.destinations.set(d.destination_id, d);
        break;
      }
      case Subjects.HookChanged: {
        const h = this.secrets ? (event as HookChangedEvent) : withoutSecrets(event as HookChangedEvent);
        const before = this.hooks.get(h.hook_id);
        if (before) this.hookIdsByAccount.get(before.account_id)?.delete(h.hook_id);
        if (h.deleted) {
          this.hooks.delete(h.hook_id);
        } else {
          this.hooks.set(h.hook_id, h);
          if (!this.hookIdsByAccount.has(h.account_id)) this.hookIdsByAccount.set(h.account_id, new Set());
          this.hookIdsByAccount.get(h.account_id)!.add(h.hook_id);
        }
        break;
      }
    }
  }

  /** The account of a live (not revoked) API key, by the key's SHA-256. */
  accountOfKey(keyHash: string): number | undefined {
    const key = this.keysByHash.get(keyHash);
    return key && key.revoked_at === null ? key.account_id : undefined;
  }

  entitled(accountId: number, now = new Date()): boolean {
    const account = this.accounts.get(accountId);
    return account !== undefined && isEntitled(account.plan, account.trial_ends_at, now);
  }

  /** The hooks a load event fires: enabled, of an entitled account, of the destination if named. */
  hooksToNotify(accountId: number, destinationId?: number, now = new Date()): HookChangedEvent[] {
    if (!this.entitled(accountId, now)) return [];
    return [...(this.hookIdsByAccount.get(accountId) ?? [])]
      .map((id) => this.hooks.get(id)!)
      .filter((h) => h.disabled_at === null && (destinationId === undefined || h.destination_id === destinationId));
  }

  /**
   * A destination's connection URL, opened (it holds a password: never log it); null for a
   * destination on the built-in database, or unknown here; always null in a view without the key.
   */
  destinationConnectionUrl(destinationId: number): string | null {
    const sealed = this.destinations.get(destinationId)?.connection_url;
    return sealed && this.destinationSecrets ? this.destinationSecrets.open(sealed) : null;
  }

  /**
   * Secrets that sign now, opened: the newest, and an older one until its grace period ends.
   * Throws (naming the key id, never a secret) if one was sealed under a key this service
   * lacks; always empty in a view without the key.
   */
  signingSecrets(hookId: number, now = new Date()): string[] {
    const hook = this.hooks.get(hookId);
    return hook ? this.signingSecretsOf(hook, now) : [];
  }

  /** signingSecrets of a hook as an event carries it (a `hook.verify` request's, before the view has it). */
  signingSecretsOf(hook: Pick<HookChangedEvent, 'secrets'>, now = new Date()): string[] {
    const secrets = this.secrets;
    if (!secrets) return [];
    return hook.secrets.filter((s) => s.expires_at === null || new Date(s.expires_at) > now).map((s) => secrets.open(s.secret));
  }

  /** The hook's custom headers (SPEC §9), opened; none for a hook the view does not have, or in a view without the key. */
  customHeaders(hookId: number): OpenedHeaders {
    const hook = this.hooks.get(hookId);
    return hook ? this.customHeadersOf(hook) : { ok: true, headers: [] };
  }

  /** customHeaders of a hook as an event carries it. */
  customHeadersOf(hook: Pick<HookChangedEvent, 'settings'>): OpenedHeaders {
    const secrets = this.secrets;
    if (!secrets) return { ok: true, headers: [] };
    const headers: [string, string][] = [];
    for (const header of settingsOf(hook).headers) {
      if (!isSealed(header.value)) return { ok: false, error: `custom header ${header.name} cannot be sent: its value is not sealed` };
      try {
        headers.push([header.name, secrets.open(header.value)]);
      } catch (err) {
        // SecretBoxError: names the key id, never the value.
        return { ok: false, error: `custom header ${header.name} cannot be sent: ${(err as Error).message}` };
      }
    }
    return { ok: true, headers };
  }
}

/** A hook as a view without the key keeps it: no secret, no custom header, not even sealed. */
function withoutSecrets(hook: HookChangedEvent): HookChangedEvent {
  return { ...hook, secrets: [], ...(hook.settings ? { settings: { ...hook.settings, headers: [] } } : {}) };
}
