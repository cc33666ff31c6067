import { DynamicModule, Module } from '@nestjs/common';
import { DispatcherEnv, secretBoxFromEnv } from '@posthooks/config';
import { RegistryViewModule } from '@posthooks/registry-view';
import { coreModules, projectVersion } from '@posthooks/runtime';
import { Init1764000100000 } from './database/migrations/1764000100000-init';
import { DeliveryLease1764000400000 } from './database/migrations/1764000400000-delivery-lease';
import { ExpiredLeaseIndex1764000500000 } from './database/migrations/1764000500000-expired-lease-index';
import { EventHash1764000600000 } from './database/migrations/1764000600000-event-hash';
import { AttemptsByTime1764000700000 } from './database/migrations/1764000700000-attempts-by-time';
import { ReportDue1764000800000 } from './database/migrations/1764000800000-report-due';
import { DueDeliveries1764000900000 } from './database/migrations/1764000900000-due-deliveries';
import { FinalDeliveriesByAge1764001500000 } from './database/migrations/1764001500000-final-deliveries-by-age';
import { UndeliveredByAccount1764002100000 } from './database/migrations/1764002100000-undelivered-by-account';
import { HookSends1764002200000 } from './database/migrations/1764002200000-hook-sends';
import { DeliveriesController } from './delivery/deliveries.controller';
import { DeliveryStore } from './delivery/delivery-store';
import { DeliveryWorker, WEBHOOK_SENDER } from './delivery/delivery-worker';
import { DeliveryReports } from './delivery/delivery-reports';
import { DeliveryRetention } from './delivery/delivery-retention';
import { DeliveryScheduler } from './delivery/delivery-scheduler';
import { HookThrottle } from './delivery/hook-throttle';
import { WebhookSender } from './delivery/webhook-sender';
import { FanoutService } from './fanout/fanout.service';
import { LoadsController } from './fanout/loads.controller';
import { DeliveryLogController } from './log/delivery-log.controller';
import { DeliveryLogService } from './log/delivery-log.service';
import { UndeliveredGauge } from './log/undelivered-gauge';
import { HookVerifyResponder } from './verify/hook-verify.responder';

/** `posthooks/<version>` (SPEC §5), the version of the package.json beside the build. */
export const USER_AGENT = `posthooks/${projectVersion()}`;

@Module({})
export class AppModule {
  static forRoot(env: DispatcherEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [...coreModules(env, { service: 'dispatcher', schema: 'dispatcher', migrations: [Init1764000100000, DeliveryLease1764000400000, ExpiredLeaseIndex1764000500000, EventHash1764000600000, AttemptsByTime1764000700000, ReportDue1764000800000, DueDeliveries1764000900000, FinalDeliveriesByAge1764001500000, UndeliveredByAccount1764002100000, HookSends1764002200000] }), RegistryViewModule.forRoot({ signingSecrets: secretBoxFromEnv(env) })],
      controllers: [LoadsController, DeliveriesController, DeliveryLogController],
      providers: [
        { provide: DispatcherEnv, useValue: env },
        {
          provide: WEBHOOK_SENDER,
          useValue: new WebhookSender({ timeoutMs: env.DELIVERY_TIMEOUT_MS, allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS, userAgent: USER_AGENT, maxSocketsPerHost: env.DELIVERY_CONCURRENCY_PER_HOST }),
        },
        DeliveryStore,
        DeliveryWorker,
        DeliveryScheduler,
        HookThrottle,
        DeliveryReports,
        DeliveryRetention,
        FanoutService,
        DeliveryLogService,
        HookVerifyResponder,
        UndeliveredGauge,
      ],
    };
  }
}
