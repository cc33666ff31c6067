import { Inject, Injectable } from '@nestjs/common';
import { DispatcherEnv } from '@posthooks/config';
import { deleteInBatches } from '@posthooks/persistence';
import { RetentionSweep } from '@posthooks/runtime';
import { DataSource } from 'typeorm';

/**
 * Deliveries a batch removes at most. Smaller than DELETE_BATCH: each takes its attempts
 * with it (ON DELETE CASCADE), six or more per delivery that was retried.
 */
const DELIVERY_BATCH = 1000;

/**
 * Removes final deliveries (succeeded, failed, cancelled) not changed for RETENTION_DAYS,
 * with their attempts. Never a pending one, nor one whose report NOTIFY has not taken yet
 * (report_due). The conditions are repeated outside the sub-select: a delivery redelivered
 * (pending again) between the two is checked again on its new row and kept.
 */
@Injectable()
export class DeliveryRetention extends RetentionSweep {
  constructor(
    private readonly db: DataSource,
    @Inject(DispatcherEnv) private readonly env: DispatcherEnv,
  ) {
    super('DeliveryRetention', env.RETENTION_SWEEP_MS);
  }

  async sweep(): Promise<{ deliveries: number }> {
    const final = `state IN ('succeeded', 'failed', 'cancelled') AND report_due IS NULL AND updated_at < now() - $2 * interval '1 day'`;
    const deliveries = await deleteInBatches(
      this.db,
      `DELETE FROM deliveries WHERE webhook_id IN (SELECT webhook_id FROM deliveries WHERE ${final} ORDER BY updated_at LIMIT $1) AND ${final}`,
      [this.env.RETENTION_DAYS],
      { batch: DELIVERY_BATCH, stopping: this.stopping },
    );
    return { deliveries };
  }
}
