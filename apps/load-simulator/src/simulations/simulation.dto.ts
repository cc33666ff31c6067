import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { parseDuration } from '@posthooks/config';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';

export const OUTCOMES = ['loaded', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Ids are Postgres `integer`s: a bigger one could name nothing and would fail the insert. */
const MAX_ID = 2_147_483_647;

/** SPEC §10: one event per table, so this bounds what one call publishes. */
export const MAX_TABLES = 100;

/** `POST /v1/simulations` (SPEC §7): one load event per table. */
export class SimulationDto {
  @ApiProperty({ minimum: 1, description: "The account the loads are for: the key's own account, or any with the admin token." })
  @IsInt() @Min(1) @Max(MAX_ID)
  client_id: number;

  @ApiPropertyOptional({ minimum: 1, description: "Only this destination's hooks fire; absent: all the account's hooks." })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_ID)
  destination_id?: number;

  @ApiProperty({ maxLength: 255, example: 'shopify' })
  @IsString() @IsNotEmpty() @MaxLength(255)
  integration_name: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 100, example: ['orders', 'customers'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_TABLES, { message: `a simulation has at most ${MAX_TABLES} tables` })
  @IsString({ each: true }) @IsNotEmpty({ each: true }) @MaxLength(255, { each: true })
  tables: string[];

  @ApiProperty({ enum: OUTCOMES, description: 'loaded → table.loaded; rejected → table.rejected with every row rejected.' })
  @IsIn(OUTCOMES, { message: 'outcome must be loaded or rejected' })
  outcome: Outcome;

  @ApiPropertyOptional({ minimum: 0, maximum: 1e9, default: 100 })
  @IsOptional() @IsInt() @Min(0) @Max(1e9)
  num_rows?: number;
}

/**
 * `every` is a duration from 1s to a year (its milliseconds stay a sane timestamp offset).
 * The service also holds it to `SCHEDULE_MIN_EVERY_MS` (1 minute, SPEC §10).
 */
export const MIN_EVERY_MS = 1000;
export const MAX_EVERY_MS = 8760 * 3_600_000;
const EVERY_RULE = 'every must be a duration from 1s to 8760h, e.g. 30s, 5m, 1h';

/** Milliseconds of a valid `every`, or undefined. */
export function everyMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const ms = parseDuration(value);
    return ms >= MIN_EVERY_MS && ms <= MAX_EVERY_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** `POST /v1/schedules`: the same load, repeated every interval. */
export class ScheduleDto extends SimulationDto {
  @ApiProperty({ example: '5m', description: 'A duration such as 5m, 1h; at least 1m (SCHEDULE_MIN_EVERY_MS).' })
  @ValidateBy({ name: 'isScheduleInterval', validator: { validate: (v: unknown) => everyMs(v) !== undefined } }, { message: EVERY_RULE })
  every: string;
}
