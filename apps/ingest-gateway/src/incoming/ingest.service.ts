import { Inject, Injectable } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { stringifyJson, Subjects } from '@posthooks/contracts';
import { EventPublisher, NATS_CONNECTION, NatsNaming, openIngestRecordStore } from '@posthooks/messaging';
import type { NatsConnection, ObjectStore } from 'nats';
import { RegistryView } from '@posthooks/registry-view';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { StatementBatcher } from '@posthooks/persistence';
import { IntegrationRow } from '../integrations/integrations.service';
import { IngestShare } from './ingest-share';
import { RecordBatcher } from './record-batcher';

/**
 * Record JSON per INGEST message: well under NATS's 1 MB payload limit. A record larger
 * than this travels by reference, in the INGEST_RECORDS object store.
 */
const PART_BYTES = 512 * 1024;
/**
 * Re-serialized JSON can outgrow its source (`1e20` is 21 bytes as JSON.stringify writes
 * it): only posted JSON of an eighth of a part surely fits in one part.
 */
const SMALL_POST_BYTES = PART_BYTES / 8;

type TokenRow = IntegrationRow & { token_hash: string };

@Injectable()
export class IngestService {
  /**
   * Token lookups of concurrent requests go to Postgres as one query: Postgres stays the
   * only truth about revocation (a revoked URL is refused at once, on every replica),
   * without a round trip per post.
   */
  private readonly lookups = new StatementBatcher<string, TokenRow | undefined>(async (hashes) => {
    const rows = await this.db.query<TokenRow[]>(
      `SELECT i.*, u.token_hash FROM webhook_urls u JOIN integrations i ON i.id = u.integration_id
       WHERE u.token_hash = ANY($1) AND u.revoked_at IS NULL`,
      [hashes],
    );
    return hashes.map((h) => rows.find((r) => safeEqual(r.token_hash, h)));
  });

  /**
   * Small posts to one integration that arrive together share an INGEST message (its
   * `request_id` then names the message, not one HTTP request): one publish, one
   * JetStream ack and one message for the load-simulator instead of one each.
   */
  private readonly smallPosts = new RecordBatcher<number, IntegrationRow>(SMALL_POST_BYTES, (integration, records) => this.publish(integration, [records]));

  /** One integration may hold at most INGEST_SHARE of INGEST. */
  private readonly share: IngestShare;
  /** Where records too large for a message go (opened, and created, on first use). */
  private recordStore?: Promise<ObjectStore>;

  constructor(
    private readonly db: DataSource,
    private readonly view: RegistryView,
    private readonly publisher: EventPublisher,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    @Inject(IngestGatewayEnv) private readonly env: IngestGatewayEnv,
  ) {
    this.share = new IngestShare(() => nc.jetstreamManager(), naming, env.INGEST_SHARE);
  }

  /**
   * The integration a webhook token opens, or undefined (unknown, revoked, or its
   * destination is gone). Looked up by the token's hash, then compared in constant time.
   */
  async integrationOf(token: string): Promise<IntegrationRow | undefined> {
    if (!/^whk_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const row = await this.lookups.submit(hashApiKey(token));
    if (!row || !this.view.destinations.has(row.destination_id)) return undefined;
    return row;
  }

  /**
   * Stores the records durably in JetStream; resolves once every message holding them is
   * acknowledged. `bodyBytes` is the size of the JSON they came in: a small body is not
   * measured record by record, and travels with the other small posts of the moment.
   * Throws OverShare if the integration holds its share of INGEST already (nothing
   * stored), StreamFull (@posthooks/messaging) if INGEST refused a message: a post of
   * several parts keeps the parts stored before it, which a retry stores again.
   */
  async accept(integration: IntegrationRow, records: Record<string, unknown>[], bodyBytes: number): Promise<number> {
    // `[]`: nothing to store (and an INGEST message holds at least one record).
    if (records.length === 0) return 0;
    await this.share.check(integration.id);
    if (bodyBytes <= SMALL_POST_BYTES) await this.smallPosts.add(integration.id, integration, records, bodyBytes);
    else await this.publish(integration, splitBySize(records, PART_BYTES));
    return records.length;
  }

  /**
   * One INGEST message per part, under one request id, on the integration's own subject
   * (`ingest.records.<id>.<size class>`, see IngestShare); resolves once all are
   * acknowledged. A part of one large record stores it in the object store first, and
   * its message names it: the 202 comes only once both are stored.
   */
  private async publish(integration: IntegrationRow, parts: Part[]): Promise<void> {
    const requestId = randomUUID();
    const receivedAt = new Date().toISOString();
    await Promise.all(
      parts.map(async (part, i) => {
        const ref = `${requestId}-${i}`;
        if ('large' in part) {
          this.recordStore ??= openIngestRecordStore(this.nc.jetstream(), this.naming, this.env.NATS_STREAM_REPLICAS);
          const store = await this.recordStore.catch((err: unknown) => {
            this.recordStore = undefined; // opened again next time
            throw err;
          });
          await store.putBlob({ name: ref }, Buffer.from(part.large));
        }
        const stored = await this.publisher.publish(
          Subjects.IngestRecords,
          {
            integration_id: integration.id,
            client_id: integration.account_id,
            destination_id: integration.destination_id,
            integration_name: integration.name,
            schema: integration.schema,
            ...(integration.primary_key ? { primary_key: integration.primary_key } : {}),
            request_id: requestId,
            part: i,
            received_at: receivedAt,
            ...('large' in part ? { records: [], record_refs: [ref] } : { records: part }),
          },
          { msgId: ref, key: (bytes) => IngestShare.key(integration.id, bytes) },
        );
        this.share.published(integration.id, stored.bytes);
      }),
    );
  }
}

/** Records that travel in one message, or one record's JSON that travels by reference. */
type Part = Record<string, unknown>[] | { large: string };

/** Records in parts of at most `maxBytes` of JSON; a record larger than that is a part of its own, by reference. */
export function splitBySize(records: Record<string, unknown>[], maxBytes: number): Part[] {
  const parts: Part[] = [];
  let open: Record<string, unknown>[] = [];
  let size = 0;
  for (const r of records) {
    const json = stringifyJson(r);
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) {
      parts.push({ large: json });
      continue;
    }
    if (size + bytes > maxBytes && open.length > 0) {
      parts.push(open);
      open = [];
      size = 0;
    }
    open.push(r);
    size += bytes;
  }
  if (open.length > 0) parts.push(open);
  return parts;
}
