import { ArrayMaxSize, IsArray, IsDateString, IsInt, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';

/**
 * gateway → load-simulator: records accepted on one incoming-webhook POST. A large POST
 * is split into several parts so each message stays under the NATS payload limit.
 */
export class IngestRecordsEvent {
  @IsInt() @Min(1)
  integration_id: number;

  @IsInt() @Min(1)
  client_id: number;

  @IsInt() @Min(1)
  destination_id: number;

  @IsString() @IsNotEmpty() @MaxLength(255)
  integration_name: string;

  @IsOptional() @IsString() @MaxLength(50)
  primary_key?: string;

  /**
   * The schema the records load into, in the destination's database: the integration's
   * name (SPEC §7), or `<name>_<id>` for an integration created before issue 17. Absent
   * in messages of an older gateway, which are read as `<name>_<id>`.
   */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(63)
  schema?: string;

  /**
   * Id of the publish: one HTTP request's records, or small posts to one integration
   * that the gateway sent together; with `part` it makes the publish idempotent.
   */
  @IsString() @IsNotEmpty() @MaxLength(255)
  request_id: string;

  @IsInt() @Min(0)
  part: number;

  @IsDateString()
  received_at: string;

  /**
   * Third-party JSON, checked by `checkRecords` rather than by decorators: class-transformer
   * would deep-copy every record of a 4 MiB body before validating it (see validate-event).
   * A number of more than 15 significant digits is a `LosslessNumber` (lossless-json):
   * the message carries its exact digits, parsed and written with parseJson/stringifyJson.
   */
  records: Record<string, unknown>[];

  /**
   * Records too large for a message, by the names the gateway stored them under in the
   * INGEST_RECORDS object store (libs/messaging ingest-record-store). `records` may be
   * empty when these are not.
   */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @Matches(/^[A-Za-z0-9_-]{1,200}$/, { each: true })
  record_refs?: string[];
}

export const MAX_RECORDS_PER_MESSAGE = 100_000;

/** What is wrong with `records`, or undefined: 1 to 100,000 JSON objects (0 with `record_refs`). */
export function checkRecords(records: unknown, event?: Record<string, unknown>): string | undefined {
  if (!Array.isArray(records)) return 'records must be an array';
  const refs = event?.record_refs;
  if (records.length === 0 && !(Array.isArray(refs) && refs.length > 0)) return 'records should not be empty';
  if (records.length > MAX_RECORDS_PER_MESSAGE) return `records must contain no more than ${MAX_RECORDS_PER_MESSAGE} elements`;
  const bad = records.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r));
  return bad >= 0 ? `records[${bad}] must be an object` : undefined;
}
