import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { IngestRecordsEvent, Subjects } from '@posthooks/contracts';

/** Records from INGEST. Batching and loading into Postgres come with the loader feature. */
@Controller()
export class IngestRecordsController {
  private readonly log = new Logger('IngestRecords');

  @EventPattern(Subjects.IngestRecords)
  received(@Payload() event: IngestRecordsEvent): void {
    this.log.log(`${event.records.length} records for integration ${event.integration_id} (request ${event.request_id}, part ${event.part})`);
  }
}
