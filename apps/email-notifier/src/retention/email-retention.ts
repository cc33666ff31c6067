import { Inject, Injectable } from '@nestjs/common';
import { EmailNotifierEnv } from '@posthooks/config';
import { deleteInBatches } from '@posthooks/persistence';
import { RetentionSweep } from '@posthooks/runtime';
import { DataSource } from 'typeorm';

/**
 * Removes what the notifier keeps once past RETENTION_DAYS: undeliverable records (the
 * keys that make a redelivered hook.undeliverable send nothing; NOTIFY keeps a message
 * far shorter than that), then finished emails (sent, rejected, cancelled). An email
 * still pending or being sent stays, and so does the record pointing at it; an email
 * stays while a record or a hook's digest window still points at it (the foreign keys
 * would refuse it anyway). Records go first, so their emails can go in the same sweep.
 */
@Injectable()
export class EmailRetention extends RetentionSweep {
  constructor(
    private readonly db: DataSource,
    @Inject(EmailNotifierEnv) private readonly env: EmailNotifierEnv,
  ) {
    super('EmailRetention', env.RETENTION_SWEEP_MS);
  }

  async sweep(): Promise<{ undeliverable_records: number; emails: number }> {
    const days = [this.env.RETENTION_DAYS];
    const undeliverable_records = await deleteInBatches(
      this.db,
      `DELETE FROM undeliverable_events WHERE event_key IN (
         SELECT event_key FROM undeliverable_events u
         WHERE received_at < now() - $2 * interval '1 day'
           AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.id = u.email_id AND e.state IN ('pending', 'sending'))
         ORDER BY received_at LIMIT $1)`,
      days,
      { stopping: this.stopping },
    );
    const emails = await deleteInBatches(
      this.db,
      `DELETE FROM emails WHERE id IN (
         SELECT id FROM emails e
         WHERE state IN ('sent', 'rejected', 'cancelled') AND created_at < now() - $2 * interval '1 day'
           AND NOT EXISTS (SELECT 1 FROM undeliverable_events u WHERE u.email_id = e.id)
           AND NOT EXISTS (SELECT 1 FROM hook_windows w WHERE w.digest_id = e.id)
         ORDER BY created_at LIMIT $1)`,
      days,
      { stopping: this.stopping },
    );
    return { undeliverable_records, emails };
  }
}
