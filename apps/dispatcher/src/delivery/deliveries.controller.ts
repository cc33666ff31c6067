import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryRequestedEvent, Subjects } from '@posthooks/contracts';
import { DeliveryWorker } from './delivery-worker';

@Controller()
export class DeliveriesController {
  constructor(private readonly worker: DeliveryWorker) {}

  @EventPattern(Subjects.DeliveryRequested)
  attempt(@Payload() msg: DeliveryRequestedEvent): Promise<void> {
    return this.worker.handle(msg);
  }
}
