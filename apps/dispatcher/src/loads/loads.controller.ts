import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { LoadEvent, Subjects } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';

/** Load events from LOADS. Fan-out to hooks, signing and retries come with the delivery feature. */
@Controller()
export class LoadsController {
  private readonly log = new Logger('Loads');

  @EventPattern([Subjects.TableLoaded, Subjects.TableRejected])
  received(@Payload() event: LoadEvent, @Ctx() ctx: JetStreamContext): void {
    const id = event.event_id ?? ctx.fallbackEventId;
    this.log.log(`${ctx.subject} ${id}: client ${event.client_id}, ${event.integration_name}.${event.table_name}, ${event.num_rows ?? 0} rows`);
  }
}
