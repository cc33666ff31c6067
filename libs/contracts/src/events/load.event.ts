import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDateString,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/**
 * The most subtables one load event may list (`tables`): a load is of one table and its
 * subtables, and a bigger list is a publisher's bug; the event goes to DEADLETTER.
 */
export const MAX_EVENT_TABLES = 1000;

/** One table of a load, as in the `tables` array of the Stitch post-load body. */
export class LoadedTable {
  @IsString() @IsNotEmpty() @MaxLength(255)
  table_name: string;

  @IsOptional() @IsString() @MaxLength(255)
  destination_table_name?: string;

  @IsOptional() @IsInt() @Min(0)
  num_rows?: number;

  @IsOptional() @IsInt() @Min(0)
  num_rows_rejected?: number;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  max_time_extracted?: string | null;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsObject()
  bookmark_metadata?: Record<string, unknown> | null;
}

/** What every event on LOADS says (SPEC §4): whose load, of which table; three fields required. */
abstract class TableEvent {
  @IsInt() @Min(1)
  client_id: number;

  @IsString() @IsNotEmpty() @MaxLength(255)
  integration_name: string;

  @IsString() @IsNotEmpty() @MaxLength(255)
  table_name: string;

  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(255)
  event_id?: string;

  @IsOptional() @IsInt() @Min(1)
  destination_id?: number;
}

/**
 * Body of `table.loaded` and `table.rejected` (SPEC §4). Three fields are required;
 * every other one is defaulted by the consumer (see the dispatcher).
 */
export class LoadEvent extends TableEvent {
  @IsOptional() @IsInt() @Min(0)
  num_rows?: number;

  @IsOptional() @IsInt() @Min(0)
  num_rows_rejected?: number;

  @IsOptional() @IsString() @MaxLength(4096)
  error_message?: string;

  @IsOptional() @IsDateString()
  minimum_sdc_batched_at?: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  max_time_extracted?: string | null;

  @IsOptional() @IsInt() @Min(0)
  table_version?: number;

  @IsOptional() @IsBoolean()
  new_version?: boolean;

  @IsOptional() @IsString() @MaxLength(255)
  destination_table_name?: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsObject()
  bookmark_metadata?: Record<string, unknown> | null;

  /** At most MAX_EVENT_TABLES: checking tens of thousands of nested objects held a consumer for seconds. */
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_EVENT_TABLES) @ValidateNested({ each: true }) @Type(() => LoadedTable)
  tables?: LoadedTable[];
}

/** One table of a `load.started` event: what is about to be written. */
export class StartedTable {
  @IsString() @IsNotEmpty() @MaxLength(255)
  table_name: string;

  @IsOptional() @IsString() @MaxLength(255)
  destination_table_name?: string;
}

/**
 * Body of `load.started` (SPEC §4): a load of the table has begun. The same three
 * required fields as a load event; `started_at` defaults to when the dispatcher reads it.
 */
export class LoadStartedEvent extends TableEvent {
  @IsOptional() @IsDateString()
  started_at?: string;

  @IsOptional() @IsString() @MaxLength(255)
  destination_table_name?: string;

  @IsOptional() @IsArray() @ArrayMaxSize(MAX_EVENT_TABLES) @ValidateNested({ each: true }) @Type(() => StartedTable)
  tables?: StartedTable[];
}
