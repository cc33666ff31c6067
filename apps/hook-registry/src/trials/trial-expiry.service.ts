import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { isEntitled } from '@posthooks/contracts';
import { PeriodicTask } from '@posthooks/runtime';
import { DataSource } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { OutboxRelay } from '../changes/outbox-relay';
import { HookChanges } from '../hooks/hook-changes';

/**
 * A trial ends without anyone calling the API: this sweep disables the hooks of every
 * account whose trial is over. (The dispatcher also checks trial_ends_at itself, so no
 * webhook leaves between the end and the sweep.)
 */
@Injectable()
export class TrialExpiry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('TrialExpiry');
  private readonly ticker = new PeriodicTask('trial sweep', this.log, () => this.sweep());

  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly hookChanges: HookChanges,
    private readonly relay: OutboxRelay,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.ticker.start(this.env.TRIAL_CHECK_INTERVAL_MS);
  }

  onApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }

  /** Disables the hooks of ended trials; returns how many hooks it disabled. */
  async sweep(): Promise<number> {
    let disabled = 0;
    for (;;) {
      const due = await this.db.query<{ id: number }[]>(
        `SELECT a.id FROM accounts a
         WHERE a.plan = 'free_trial' AND a.trial_ends_at <= now()
           AND EXISTS (SELECT 1 FROM hooks h WHERE h.account_id = a.id AND h.disabled_at IS NULL)
         ORDER BY a.id LIMIT 100`,
      );
      if (due.length === 0) break;
      for (const { id } of due) {
        disabled += await this.db.transaction(async (m) => {
          const account = await this.accounts.lockAccount(m, id);
          if (isEntitled(account.plan, account.trial_ends_at)) return 0; // upgraded meanwhile
          return this.hookChanges.disableAll(m, id, 'plan_downgrade', 'system');
        });
      }
    }
    if (disabled > 0) {
      this.log.log(`disabled ${disabled} hooks of ended trials`);
      this.relay.kick();
    }
    return disabled;
  }
}
