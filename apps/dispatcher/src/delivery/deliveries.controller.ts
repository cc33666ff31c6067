import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryRequestedEvent, HookTestEvent, Subjects } from '@posthooks/contracts';
import { FanoutService } from '../fanout/fanout.service';
import { DeliveryWorker } from './delivery-worker';

@Controller()
export class DeliveriesController {
  constructor(
    private readonly worker: DeliveryWorker,
    private readonly fanout: FanoutService,
  ) {}

  @EventPattern(Subjects.DeliveryRequested)
  attempt(@Payload() msg: DeliveryRequestedEvent): Promise<void> {
    return this.worker.handle(msg);
  }

  @EventPattern(Subjects.HookTest)
  ping(@Payload() test: HookTestEvent): Promise<void> {
    return this.fanout.ping(test);
  }
}
