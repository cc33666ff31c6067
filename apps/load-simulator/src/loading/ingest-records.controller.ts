import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IngestRecordsEvent, Subjects } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';
import { DestinationPools, DestinationUnavailableError } from '../destination-pools/destination-pools';
import { Batcher } from './batcher';
import { RecordRefs } from './record-refs';

/** Records from INGEST: acked once loaded (the handler waits for its batch's flush). */
@Controller()
export class IngestRecordsController {
  constructor(
    private readonly batcher: Batcher,
    private readonly refs: RecordRefs,
    private readonly pools: DestinationPools,
  ) {}

  @EventPattern(Subjects.IngestRecords)
  async received(@Payload() event: IngestRecordsEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    try {
      await this.load(event, ctx);
    } catch (err) {
      // An outage of the destination, not of the message: retried as long as it lasts, never dead-lettered.
      if (!(err instanceof DestinationUnavailableError)) throw err;
      ctx.retryIn(err.retryInMs + Math.floor(Math.random() * 1000), err.message, { quiet: true });
    }
  }

  private async load(event: IngestRecordsEvent, ctx: JetStreamContext): Promise<void> {
    if (!event.record_refs?.length) return this.batcher.add(event);
    // Not worth reading records by reference for a destination that is down.
    const refused = this.pools.refusal(event.destination_id);
    if (refused) throw refused;
    // Records by reference: read before loading, deleted only once the server has the ack.
    const read = await this.refs.withRecords(event);
    if (!read.ok) return ctx.deadLetter(read.reason);
    await this.batcher.add(read.event);
    await ctx.message.ackAck();
    await this.refs.release(event);
  }
}
