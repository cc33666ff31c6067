import { HttpException, Inject, Injectable } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import { RegistryView } from '@posthooks/registry-view';
import { notFound } from '@posthooks/runtime';
import { hashApiKey } from '@posthooks/webhooks';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { CreateIntegrationDto } from './integrations.dto';

/** Live webhook URLs an integration may have at once: one in use, one being rolled out. */
export const MAX_LIVE_URLS = 2;

/** SPEC §10. */
export const MAX_INTEGRATIONS = 100;

export interface IntegrationRow {
  id: number;
  account_id: number;
  destination_id: number;
  name: string;
  primary_key: string | null;
  /** In the destination's database: the name (SPEC §7); `<name>_<id>` for an integration created before issue 17. */
  schema: string;
  created_at: Date;
}


function nameTaken(name: string): HttpException {
  return new HttpException(simpleError(`an integration named ${name} already loads into this destination (its schema ${name}): choose another name`), 409);
}

@Injectable()
export class IntegrationsService {
  constructor(
    private readonly db: DataSource,
    private readonly view: RegistryView,
    @Inject(IngestGatewayEnv) private readonly env: IngestGatewayEnv,
  ) {}

  async create(accountId: number, dto: CreateIntegrationDto) {
    const destination = this.view.destinations.get(dto.destination_id);
    if (!destination || destination.account_id !== accountId) throw notFound();
    return this.db.transaction(async (m) => {
      // The gateway has no account row to lock: a lock per account (until commit) makes
      // count-then-insert safe under concurrent creates.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', ['posthooks:ingest_gateway:integrations', accountId]);
      const [{ n }] = await m.query<{ n: number }[]>('SELECT count(*)::int AS n FROM integrations WHERE account_id = $1', [accountId]);
      if (n >= MAX_INTEGRATIONS) throw new HttpException(simpleError(`an account has at most ${MAX_INTEGRATIONS} integrations`), 400);
      // ON CONFLICT: the name is taken in this destination (integrations_destination_schema): 409.
      const [i] = await m.query<IntegrationRow[]>(
        'INSERT INTO integrations (account_id, destination_id, name, schema, primary_key) VALUES ($1, $2, $3, $3, $4) ON CONFLICT (destination_id, schema) DO NOTHING RETURNING *',
        [accountId, dto.destination_id, dto.name, dto.primary_key ?? null],
      );
      if (!i) throw nameTaken(dto.name);
      const url = await this.insertUrl(m, i.id);
      return { ...this.view_(i), webhook_url: url.webhook_url, url_id: url.id };
    });
  }

  async list(accountId: number) {
    const rows = await this.db.query<(IntegrationRow & { urls: { id: number; created_at: string; revoked_at: string | null }[] })[]>(
      `SELECT i.*, coalesce(json_agg(json_build_object('id', u.id, 'created_at', u.created_at, 'revoked_at', u.revoked_at) ORDER BY u.id) FILTER (WHERE u.id IS NOT NULL), '[]') AS urls
       FROM integrations i LEFT JOIN webhook_urls u ON u.integration_id = i.id
       WHERE i.account_id = $1 GROUP BY i.id ORDER BY i.id`,
      [accountId],
    );
    return rows.map((r) => ({ ...this.view_(r), urls: r.urls }));
  }

  /** A second live URL, to move senders over without downtime; at most two at once. */
  async addUrl(accountId: number, integrationId: number) {
    return this.db.transaction(async (m) => {
      const [i] = await m.query<IntegrationRow[]>('SELECT * FROM integrations WHERE id = $1 AND account_id = $2 FOR UPDATE', [integrationId, accountId]);
      if (!i) throw notFound();
      const [{ live }] = await m.query<{ live: number }[]>('SELECT count(*)::int AS live FROM webhook_urls WHERE integration_id = $1 AND revoked_at IS NULL', [integrationId]);
      if (live >= MAX_LIVE_URLS) throw new HttpException(simpleError(`an integration has at most ${MAX_LIVE_URLS} live webhook URLs: revoke one first`), 409);
      return this.insertUrl(m, integrationId);
    });
  }

  /** Revoked at once: the next POST to it is a 404. */
  async revokeUrl(accountId: number, integrationId: number, urlId: number) {
    const [[url]] = await this.db.query<[{ id: number; revoked_at: Date }[], number]>(
      `UPDATE webhook_urls u SET revoked_at = coalesce(u.revoked_at, now())
       FROM integrations i WHERE u.id = $1 AND u.integration_id = $2 AND i.id = u.integration_id AND i.account_id = $3
       RETURNING u.id, u.revoked_at`,
      [urlId, integrationId, accountId],
    );
    if (!url) throw notFound();
    return { id: url.id, revoked_at: url.revoked_at.toISOString() };
  }

  private async insertUrl(m: EntityManager, integrationId: number) {
    // The token is the URL's secret: shown once, kept only as a hash.
    const token = `whk_${randomBytes(32).toString('base64url')}`;
    const [row] = await m.query<{ id: number }[]>('INSERT INTO webhook_urls (integration_id, token_hash) VALUES ($1, $2) RETURNING id', [integrationId, hashApiKey(token)]);
    return { id: row.id, webhook_url: `${this.env.PUBLIC_BASE_URL.replace(/\/$/, '')}/v1/incoming/${token}` };
  }

  private view_(i: IntegrationRow) {
    return { id: i.id, name: i.name, destination_id: i.destination_id, primary_key: i.primary_key, schema: i.schema, created_at: i.created_at.toISOString() };
  }
}
