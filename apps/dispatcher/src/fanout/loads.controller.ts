import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { LoadEvent, Subjects } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';
import { FanoutService } from './fanout.service';

/** `table.loaded` and `table.rejected` from LOADS, shared by every dispatcher replica. */
@Controller()
export class LoadsController {
  constructor(private readonly fanout: FanoutService) {}

  @EventPattern([Subjects.TableLoaded, Subjects.TableRejected])
  async onLoad(@Payload() event: LoadEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.fanout.fanOut(event, ctx);
  }
}
