import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IngestRecordsEvent, Subjects } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';
import { Batcher } from './batcher';
import { RecordRefs } from './record-refs';

/** Records from INGEST: acked once loaded (the handler waits for its batch's flush). */
@Controller()
export class IngestRecordsController {
  constructor(
    private readonly batcher: Batcher,
    private readonly refs: RecordRefs,
  ) {}

  @EventPattern(Subjects.IngestRecords)
  async received(@Payload() event: IngestRecordsEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    if (!event.record_refs?.length) return this.batcher.add(event);
    // Records by reference: read before loading, deleted only once the server has the ack.
    const read = await this.refs.withRecords(event);
    if (!read.ok) return ctx.deadLetter(read.reason);
    await this.batcher.add(read.event);
    await ctx.message.ackAck();
    await this.refs.release(event);
  }
}
