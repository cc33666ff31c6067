import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { IngestRecordsEvent, Subjects } from '@posthooks/contracts';
import { Batcher } from './batcher';

/** Records from INGEST: acked once loaded (the handler waits for its batch's flush). */
@Controller()
export class IngestRecordsController {
  constructor(private readonly batcher: Batcher) {}

  @EventPattern(Subjects.IngestRecords)
  received(@Payload() event: IngestRecordsEvent): Promise<void> {
    return this.batcher.add(event);
  }
}
