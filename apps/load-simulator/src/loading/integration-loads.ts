import { Controller, Get, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountKeyGuard, CallerAccountId } from '@posthooks/registry-view';
import { DataSource } from 'typeorm';

export interface IntegrationLoad {
  integration_id: number;
  rows_loaded: number;
  rows_rejected: number;
  last_loaded_at: string;
}

/** Per integration, what its flushes have loaded and when the last one was. */
@Injectable()
export class IntegrationLoads {
  constructor(private readonly db: DataSource) {}

  async record(clientId: number, integrationId: number, loaded: number, rejected: number, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO integration_loads (integration_id, client_id, rows_loaded, rows_rejected, last_loaded_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (integration_id) DO UPDATE SET rows_loaded = integration_loads.rows_loaded + $3, rows_rejected = integration_loads.rows_rejected + $4,
         last_loaded_at = greatest(integration_loads.last_loaded_at, $5)`,
      [integrationId, clientId, loaded, rejected, at],
    );
  }

  async list(accountId: number): Promise<IntegrationLoad[]> {
    const rows = await this.db.query<{ integration_id: number; rows_loaded: string; rows_rejected: string; last_loaded_at: Date }[]>(
      'SELECT integration_id, rows_loaded, rows_rejected, last_loaded_at FROM integration_loads WHERE client_id = $1 ORDER BY integration_id',
      [accountId],
    );
    return rows.map((r) => ({ integration_id: r.integration_id, rows_loaded: Number(r.rows_loaded), rows_rejected: Number(r.rows_rejected), last_loaded_at: r.last_loaded_at.toISOString() }));
  }
}

/** `GET /v1/integration-loads` (account key): the figures of the account's integrations, for the console. */
@ApiTags('integration loads')
@ApiBearerAuth()
@Controller('v1/integration-loads')
@UseGuards(AccountKeyGuard)
export class IntegrationLoadsController {
  constructor(private readonly loads: IntegrationLoads) {}

  @Get()
  @ApiOperation({ summary: "Rows loaded (and rejected) so far and the last load time of each of the account's incoming-webhook integrations" })
  async list(@CallerAccountId() accountId: number) {
    return { data: await this.loads.list(accountId) };
  }
}
