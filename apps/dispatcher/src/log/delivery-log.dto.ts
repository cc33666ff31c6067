import { Type } from 'class-transformer';
import { IsIsoTimestamp } from '@posthooks/contracts';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

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
