import { Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import { DataSource } from 'typeorm';

/** Who is calling: the operator with the admin token, or a team member's API key. */
export type Caller = { kind: 'admin'; label: 'admin' } | { kind: 'account'; accountId: number; keyId: number; label: string };

@Injectable()
export class AuthService {
  constructor(
    private readonly db: DataSource,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  /** The caller of a bearer token, or undefined. Keys are looked up by their SHA-256 only. */
  async identify(authorization: string | undefined): Promise<Caller | undefined> {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    if (this.env.ADMIN_TOKEN && safeEqual(token, this.env.ADMIN_TOKEN)) return { kind: 'admin', label: 'admin' };
    const [key] = await this.db.query<{ id: number; account_id: number; label: string }[]>(
      'SELECT id, account_id, label FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hashApiKey(token)],
    );
    return key ? { kind: 'account', accountId: key.account_id, keyId: key.id, label: key.label } : undefined;
  }
}
