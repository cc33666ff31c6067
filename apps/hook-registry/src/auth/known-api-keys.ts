import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ApiKeyChangedEvent, Subjects } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import { followRegistry, RegistryFollower, RegistryView } from '@posthooks/registry-view';
import type { NatsConnection } from 'nats';

/** A view that keeps the API keys only: the registry has no use for the rest here. */
class ApiKeysView extends RegistryView {
  override apply(subject: string, event: Parameters<RegistryView['apply']>[1]): void {
    if (subject === Subjects.ApiKeyChanged) super.apply(subject, event);
  }
}

export interface KnownApiKey {
  keyId: number;
  accountId: number;
  label: string;
}

/**
 * The registry's live API keys, in memory, so that checking a key costs no database
 * query (SPEC §10: a wrong key must cost nothing but its place in the failed-attempt
 * limit). Filled from the REGISTRY stream like every other service's view, so every
 * replica learns of a key issued or revoked on another one, and of keys present at
 * start. A change made through this replica is learnt at once, after its commit,
 * without waiting for the outbox relay: a key works (or stops working) on the replica
 * that issued (or revoked) it from the response on. On another replica it works once
 * the event has gone through the stream, as on the dispatcher and the gateway.
 */
@Injectable()
export class KnownApiKeys implements OnModuleInit, OnApplicationShutdown {
  private readonly view = new ApiKeysView();
  /** Keys revoked through this replica: never live again here, whatever order events arrive in. */
  private readonly revokedHere = new Set<string>();
  private follower?: RegistryFollower;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
  ) {}

  /** The API answers only once every key already on the stream is known. */
  async onModuleInit(): Promise<void> {
    this.follower = await followRegistry(this.nc, this.naming, this.view);
    await this.follower.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }

  /** A key change this replica has just committed (the event it recorded for the stream). */
  learn(event: Omit<ApiKeyChangedEvent, 'changed_by' | 'changed_at'>): void {
    if (event.revoked_at !== null) this.revokedHere.add(event.key_hash);
    // An issue learnt after the stream already brought the revocation must not revive it.
    if (event.revoked_at === null && this.view.keysByHash.get(event.key_hash)?.revoked_at) return;
    this.view.apply(Subjects.ApiKeyChanged, { ...event, changed_by: 'this replica', changed_at: new Date().toISOString() });
  }

  /** The live key with this SHA-256, or undefined. */
  find(keyHash: string): KnownApiKey | undefined {
    if (this.revokedHere.has(keyHash)) return undefined;
    const key = this.view.keysByHash.get(keyHash);
    return key && key.revoked_at === null ? { keyId: key.key_id, accountId: key.account_id, label: key.label } : undefined;
  }
}
