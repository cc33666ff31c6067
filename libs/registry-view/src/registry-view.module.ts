import { CanActivate, createParamDecorator, DynamicModule, ExecutionContext, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Subject } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import { FailedAuthGate } from '@posthooks/runtime';
import { hashApiKey } from '@posthooks/webhooks';
import type { Request, Response } from 'express';
import type { NatsConnection } from 'nats';
import { followRegistry, RegistryFollower } from './follow-registry';
import { RegistryView, SecretOpener, VIEW_DESTINATION_OPENER, VIEW_SECRET_OPENER } from './registry-view';

const REGISTRY_SUBJECTS = Symbol('REGISTRY_SUBJECTS');

/**
 * Keeps the service's RegistryView current. The app's init waits until the view has
 * caught up with the stream, so consumers and the API never answer from an empty view.
 */
@Injectable()
class RegistryViewFollower implements OnModuleInit, OnApplicationShutdown {
  private follower?: RegistryFollower;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    private readonly view: RegistryView,
    @Inject(REGISTRY_SUBJECTS) private readonly subjects: readonly Subject[] | null,
  ) {}

  async onModuleInit(): Promise<void> {
    this.follower = await followRegistry(this.nc, this.naming, this.view, this.subjects ?? undefined);
    await this.follower.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }
}

type KeyedRequest = Request & { accountId?: number };

/**
 * Routes for account keys: the key's account comes from the view, without asking the
 * registry or the database. A key that fails goes to the FailedAuthGate (401, or 429
 * once the address is over the limit); a valid one is never refused.
 */
@Injectable()
export class AccountKeyGuard implements CanActivate {
  constructor(
    private readonly view: RegistryView,
    private readonly failedAuth: FailedAuthGate,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<KeyedRequest>();
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const accountId = token ? this.view.accountOfKey(hashApiKey(token)) : undefined;
    if (accountId === undefined) this.failedAuth.refuse(req, ctx.switchToHttp().getResponse<Response>());
    req.accountId = accountId;
    return true;
  }
}

/** The id of the account whose key called (behind AccountKeyGuard). */
export const CallerAccountId = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<KeyedRequest>().accountId as number);

@Module({})
export class RegistryViewModule {
  /**
   * `signingSecrets`: only for the service that signs (the dispatcher); `destinationSecrets`:
   * only for the service that loads (the load-simulator); other views hold no secret. `subjects`: only these REGISTRY subjects (see followRegistry); default all.
   */
  static forRoot(options: { signingSecrets?: SecretOpener; destinationSecrets?: SecretOpener; subjects?: readonly Subject[] } = {}): DynamicModule {
    const opener = [
      ...(options.signingSecrets ? [{ provide: VIEW_SECRET_OPENER, useValue: options.signingSecrets }] : []),
      ...(options.destinationSecrets ? [{ provide: VIEW_DESTINATION_OPENER, useValue: options.destinationSecrets }] : []),
    ];
    return {
      module: RegistryViewModule,
      global: true,
      providers: [...opener, RegistryView, RegistryViewFollower, AccountKeyGuard, { provide: REGISTRY_SUBJECTS, useValue: options.subjects ?? null }],
      exports: [RegistryView, AccountKeyGuard],
    };
  }
}
