import { Inject, Injectable } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { deleteInBatches } from '@posthooks/persistence';
import { RetentionSweep } from '@posthooks/runtime';
import { escapeIdentifier } from 'pg';
import { DataSource } from 'typeorm';

interface RejectedTable {
  schema: string;
  indexed: boolean;
}

/** The index each `_sdc_rejected` gets for this sweep (index names are per schema). */
const AGE_INDEX = '_sdc_rejected_at';

/**
 * Removes rows of every integration's `<schema>._sdc_rejected` older than RETENTION_DAYS.
 * The tables are found in the catalog (each integration's schema has one, created by
 * the loader with its first batch). A table gets an index on `rejected_at` the first time
 * the sweep finds it without one, under the loader's lock for that schema, so the index
 * build never runs beside a write. One table that fails (dropped meanwhile) is logged and
 * the sweep goes on with the others.
 */
@Injectable()
export class RejectedRetention extends RetentionSweep {
  constructor(
    private readonly db: DataSource,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {
    super('RejectedRetention', env.RETENTION_SWEEP_MS);
  }

  async sweep(): Promise<{ rejected_rows: number }> {
    const tables = await this.db.query<RejectedTable[]>(
      `SELECT n.nspname AS schema,
              EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND ic.relname = $1) AS indexed
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relname = '_sdc_rejected' AND c.relkind = 'r'
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'rejected_at' AND NOT a.attisdropped)
       ORDER BY n.nspname`,
      [AGE_INDEX],
    );
    let rejected_rows = 0;
    for (const { schema, indexed } of tables) {
      if (this.stopping()) break;
      try {
        rejected_rows += await this.sweepTable(schema, indexed);
      } catch (err) {
        this.log.warn(`retention of ${schema}._sdc_rejected failed: ${(err as Error).message}`);
      }
    }
    return { rejected_rows };
  }

  private async sweepTable(schema: string, indexed: boolean): Promise<number> {
    const table = `${escapeIdentifier(schema)}._sdc_rejected`;
    if (!indexed) {
      await this.db.transaction(async (m) => {
        // The loader's lock (TableLoader.ensureSchema): the build waits for a write in progress and holds the next one back.
        await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`posthooks:load:${schema}`]);
        await m.query(`CREATE INDEX IF NOT EXISTS ${escapeIdentifier(AGE_INDEX)} ON ${table} (rejected_at)`);
      });
    }
    return deleteInBatches(
      this.db,
      `DELETE FROM ${table} WHERE source IN (SELECT source FROM ${table} WHERE rejected_at < now() - $2 * interval '1 day' ORDER BY rejected_at LIMIT $1)`,
      [this.env.RETENTION_DAYS],
      { stopping: this.stopping },
    );
  }
}
