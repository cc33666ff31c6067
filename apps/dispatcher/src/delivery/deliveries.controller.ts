import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { HookTestEvent, Subjects } from '@posthooks/contracts';
import { FanoutService } from '../fanout/fanout.service';

/** `hook.test` from DELIVERIES: the registry's test ping of one hook. */
@Controller()
export class DeliveriesController {
  constructor(private readonly fanout: FanoutService) {}

  @EventPattern(Subjects.HookTest)
  ping(@Payload() test: HookTestEvent): Promise<void> {
    return this.fanout.ping(test);
  }
}
