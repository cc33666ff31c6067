import { Inject, Injectable } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { DELETE_BATCH } from '@posthooks/persistence';
import { RegistryView } from '@posthooks/registry-view';
import { RetentionSweep } from '@posthooks/runtime';
import { escapeIdentifier } from 'pg';
import { DestinationPools } from '../destination-pools/destination-pools';

interface RejectedTable {
  schema: string;
  indexed: boolean;
}

/** The index each `_sdc_rejected` gets for this sweep (index names are per schema). */
const AGE_INDEX = '_sdc_rejected_at';

/**
 * Removes rows of every integration's `<schema>._sdc_rejected` older than RETENTION_DAYS,
 * in every destination's database this loader knows (its view of REGISTRY). The tables
 * are found in each database's catalog (each integration's schema has one, created by
 * the loader with its first batch). A destination that is down is skipped until the next sweep. A table gets an index on `rejected_at` the first time
 * the sweep finds it without one, under the loader's lock for that schema, so the index
 * build never runs beside a write. One table that fails (dropped meanwhile) is logged and
 * the sweep goes on with the others.
 */
@Injectable()
export class RejectedRetention extends RetentionSweep {
  constructor(
    private readonly pools: DestinationPools,
    private readonly view: RegistryView,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {
    super('RejectedRetention', env.RETENTION_SWEEP_MS);
  }

  async sweep(): Promise<{ rejected_rows: number }> {
    let rejected_rows = 0;
    for (const destinationId of [...this.view.destinations.keys()].sort((a, b) => a - b)) {
      if (this.stopping()) break;
      try {
        rejected_rows += await this.sweepDestination(destinationId);
      } catch (err) {
        this.log.warn(`retention of destination ${destinationId} failed, the next sweep tries again: ${(err as Error).message}`);
      }
    }
    return { rejected_rows };
  }

  private async sweepDestination(destinationId: number): Promise<number> {
    const tables = await this.pools.transaction(destinationId, (q) =>
      q.query<RejectedTable[]>(
        `SELECT n.nspname AS schema,
                EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND ic.relname = $1) AS indexed
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = '_sdc_rejected' AND c.relkind = 'r'
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'rejected_at' AND NOT a.attisdropped)
         ORDER BY n.nspname`,
        [AGE_INDEX],
      ),
    );
    let removed = 0;
    for (const { schema, indexed } of tables) {
      if (this.stopping()) break;
      try {
        removed += await this.sweepTable(destinationId, schema, indexed);
      } catch (err) {
        this.log.warn(`retention of ${schema}._sdc_rejected in destination ${destinationId} failed: ${(err as Error).message}`);
      }
    }
    return removed;
  }

  private async sweepTable(destinationId: number, schema: string, indexed: boolean): Promise<number> {
    const table = `${escapeIdentifier(schema)}._sdc_rejected`;
    if (!indexed) {
      await this.pools.transaction(destinationId, async (q) => {
        // The loader's lock (TableLoader.ensureSchema): the build waits for a write in progress and holds the next one back.
        await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`posthooks:load:${schema}`]);
        await q.query(`CREATE INDEX IF NOT EXISTS ${escapeIdentifier(AGE_INDEX)} ON ${table} (rejected_at)`);
      });
    }
    // A batch per short transaction (as deleteInBatches does on the services' own database).
    let removed = 0;
    for (;;) {
      if (this.stopping()) return removed;
      const deleted = await this.pools.transaction(destinationId, (q) =>
        q.query<unknown[]>(
          `DELETE FROM ${table} WHERE source IN (SELECT source FROM ${table} WHERE rejected_at < now() - $2 * interval '1 day' ORDER BY rejected_at LIMIT $1) RETURNING 1`,
          [DELETE_BATCH, this.env.RETENTION_DAYS],
        ),
      );
      removed += deleted.length;
      if (deleted.length < DELETE_BATCH) return removed;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
