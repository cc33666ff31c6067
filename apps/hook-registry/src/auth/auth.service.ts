import { Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import { KnownApiKeys } from './known-api-keys';

/** Who is calling: the operator with the admin token, or a team member's API key. */
export type Caller = { kind: 'admin'; label: 'admin' } | { kind: 'account'; accountId: number; keyId: number; label: string };

@Injectable()
export class AuthService {
  constructor(
    private readonly keys: KnownApiKeys,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  /**
   * The caller of a bearer token, or undefined. In memory only (the admin token, then the
   * known keys by their SHA-256): a wrong token costs no database query.
   */
  identify(authorization: string | undefined): Caller | undefined {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    // Without ADMIN_TOKEN there is no admin at all, never an empty-string match.
    if (this.env.ADMIN_TOKEN && safeEqual(token, this.env.ADMIN_TOKEN)) return { kind: 'admin', label: 'admin' };
    const key = this.keys.find(hashApiKey(token));
    return key ? { kind: 'account', ...key } : undefined;
  }
}
