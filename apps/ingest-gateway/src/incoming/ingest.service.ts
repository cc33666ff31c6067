import { Injectable } from '@nestjs/common';
import { Subjects } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IntegrationRow } from '../integrations/integrations.service';

/** Record JSON per INGEST message: well under NATS's 1 MB payload limit. */
const PART_BYTES = 512 * 1024;

@Injectable()
export class IngestService {
  constructor(
    private readonly db: DataSource,
    private readonly view: RegistryView,
    private readonly publisher: EventPublisher,
  ) {}

  /**
   * The integration a webhook token opens, or undefined (unknown, revoked, or its
   * destination is gone). Looked up by the token's hash, then compared in constant time.
   */
  async integrationOf(token: string): Promise<IntegrationRow | undefined> {
    if (!/^whk_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const hash = hashApiKey(token);
    const [row] = await this.db.query<(IntegrationRow & { token_hash: string })[]>(
      `SELECT i.*, u.token_hash FROM webhook_urls u JOIN integrations i ON i.id = u.integration_id
       WHERE u.token_hash = $1 AND u.revoked_at IS NULL`,
      [hash],
    );
    if (!row || !safeEqual(row.token_hash, hash) || !this.view.destinations.has(row.destination_id)) return undefined;
    return row;
  }

  /** Stores the records durably in JetStream; resolves once every part is acknowledged. */
  async accept(integration: IntegrationRow, records: Record<string, unknown>[]): Promise<number> {
    const requestId = randomUUID();
    const receivedAt = new Date().toISOString();
    const parts = splitBySize(records, PART_BYTES);
    await Promise.all(
      parts.map((part, i) =>
        this.publisher.publish(
          Subjects.IngestRecords,
          {
            integration_id: integration.id,
            client_id: integration.account_id,
            destination_id: integration.destination_id,
            integration_name: integration.name,
            ...(integration.primary_key ? { primary_key: integration.primary_key } : {}),
            request_id: requestId,
            part: i,
            received_at: receivedAt,
            records: part,
          },
          { msgId: `${requestId}-${i}` },
        ),
      ),
    );
    return records.length;
  }
}

function splitBySize(records: Record<string, unknown>[], maxBytes: number): Record<string, unknown>[][] {
  const parts: Record<string, unknown>[][] = [[]];
  let size = 0;
  for (const r of records) {
    const bytes = Buffer.byteLength(JSON.stringify(r));
    if (size + bytes > maxBytes && parts[parts.length - 1].length > 0) {
      parts.push([]);
      size = 0;
    }
    parts[parts.length - 1].push(r);
    size += bytes;
  }
  return parts;
}
