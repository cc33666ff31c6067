import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsDateString, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, Min } from 'class-validator';

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

  /** Id of the HTTP request; with `part` it makes the publish idempotent. */
  @IsString() @IsNotEmpty() @MaxLength(255)
  request_id: string;

  @IsInt() @Min(0)
  part: number;

  @IsDateString()
  received_at: string;

  @IsArray() @ArrayNotEmpty() @ArrayMaxSize(100_000) @IsObject({ each: true })
  records: Record<string, unknown>[];
}
