import { Inject, Injectable } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { deleteInBatches } from '@posthooks/persistence';
import { RetentionSweep } from '@posthooks/runtime';
import { DataSource } from 'typeorm';

/** Removes audit rows older than AUDIT_RETENTION_DAYS (SPEC §12), oldest first, a batch at a time. */
@Injectable()
export class AuditRetention extends RetentionSweep {
  constructor(
    private readonly db: DataSource,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {
    super('AuditRetention', env.RETENTION_SWEEP_MS);
  }

  async sweep(): Promise<{ audit_rows: number }> {
    const audit_rows = await deleteInBatches(
      this.db,
      `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < now() - $2 * interval '1 day' ORDER BY at LIMIT $1)`,
      [this.env.AUDIT_RETENTION_DAYS],
      { stopping: this.stopping },
    );
    return { audit_rows };
  }
}
