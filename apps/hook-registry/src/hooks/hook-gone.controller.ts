import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { HookGoneEvent, Subjects } from '@posthooks/contracts';
import { HooksService } from './hooks.service';

/** The dispatcher reports a receiver's 410 Gone; the hook is disabled as `endpoint_gone`. */
@Controller()
export class HookGoneController {
  constructor(private readonly hooks: HooksService) {}

  @EventPattern(Subjects.HookGone)
  onGone(@Payload() event: HookGoneEvent): Promise<void> {
    return this.hooks.disableGone(event.hook_id, event.client_id, event.url);
  }
}
