import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { HookUndeliverableEvent, Subjects } from '@posthooks/contracts';

/** `hook.undeliverable` from NOTIFY. The email itself comes with the notifier feature. */
@Controller()
export class UndeliverableController {
  private readonly log = new Logger('Undeliverable');

  @EventPattern(Subjects.HookUndeliverable)
  received(@Payload() event: HookUndeliverableEvent): void {
    this.log.log(`hook ${event.hook_id} of client ${event.client_id} undeliverable for ${event.event_id} after ${event.attempts} attempts`);
  }
}
