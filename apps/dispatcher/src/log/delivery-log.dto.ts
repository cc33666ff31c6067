import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIsoTimestamp } from '@posthooks/contracts';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';

export class ListAttemptsQuery {
  @IsOptional() @IsIn(['succeeded', 'failed', 'pending'], { message: 'status must be succeeded, failed or pending' })
  status?: 'succeeded' | 'failed' | 'pending';

  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be an integer from 1 to 100' }) @Min(1, { message: 'limit must be an integer from 1 to 100' }) @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit?: number;

  /**
   * The next_cursor of the previous page: `<attempted_at in µs since 1970>-<id>` of its
   * last attempt. At most 16 and 18 digits: more can pass Postgres' bigint (the query answered 500).
   */
  @IsOptional() @IsString() @Matches(/^[0-9]{1,16}-[1-9][0-9]{0,17}$/, { message: 'cursor is not one this API gave' })
  cursor?: string;
}

export class RecoverDto {
  // Not IsISO8601 alone: `2021-W01` passed it and became an Invalid Date in the query (500).
  @IsIsoTimestamp({ message: 'since must be an ISO 8601 time' })
  since: string;
}

/** What the undelivered view lists: deliveries not (yet) delivered. */
export const UNDELIVERED_STATES = ['failed', 'pending', 'cancelled'] as const;
export type UndeliveredState = (typeof UNDELIVERED_STATES)[number];

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: UNDELIVERED_STATES, default: 'failed', description: 'failed: every attempt failed (or 410); pending: waiting for its next attempt; cancelled: its hook was disabled or deleted, or the plan lost hooks.' })
  @IsOptional() @IsIn(UNDELIVERED_STATES, { message: 'status must be failed, pending or cancelled' })
  status?: UndeliveredState;

  @ApiPropertyOptional({ description: 'Only deliveries created at or after this ISO 8601 time.', example: '2026-11-24T00:00:00Z' })
  @IsOptional() @IsIsoTimestamp({ message: 'since must be an ISO 8601 time' })
  since?: string;

  @ApiPropertyOptional({ minimum: 1, description: "Only this hook's deliveries (one of the account's hooks, else 404)." })
  // One check, one message (three decorators would each add theirs for `abc`).
  @IsOptional() @Type(() => Number) @ValidateBy({ name: 'isHookId', validator: { validate: (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 2147483647 } }, { message: 'hook_id must be a hook id' })
  hook_id?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be an integer from 1 to 100' }) @Min(1, { message: 'limit must be an integer from 1 to 100' }) @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit?: number;

  /** The next_cursor of the previous page: `<created_at in µs since 1970>-<webhook_id>` of its last delivery. */
  @ApiPropertyOptional({ description: 'The next_cursor of the previous page.' })
  @IsOptional() @IsString() @Matches(/^[0-9]{1,16}-msg_[0-9a-f]{32}$/, { message: 'cursor is not one this API gave' })
  cursor?: string;
}
