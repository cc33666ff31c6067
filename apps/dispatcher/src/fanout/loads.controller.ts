import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { LoadEvent, LoadStartedEvent, Subjects } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';
import { FanoutService } from './fanout.service';

/** `table.loaded`, `table.rejected` and `load.started` from LOADS, shared by every dispatcher replica. */
@Controller()
export class LoadsController {
  constructor(private readonly fanout: FanoutService) {}

  @EventPattern([Subjects.TableLoaded, Subjects.TableRejected])
  async onLoad(@Payload() event: LoadEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.fanout.fanOut(event, ctx);
  }

  @EventPattern(Subjects.LoadStarted)
  async onStarted(@Payload() event: LoadStartedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.fanout.fanOutStarted(event, ctx);
  }
}
