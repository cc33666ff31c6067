import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export class ListAttemptsQuery {
  @IsOptional() @IsIn(['succeeded', 'failed', 'pending'], { message: 'status must be succeeded, failed or pending' })
  status?: 'succeeded' | 'failed' | 'pending';

  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be an integer from 1 to 100' }) @Min(1, { message: 'limit must be an integer from 1 to 100' }) @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit?: number;

  /** The next_cursor of the previous page. */
  @IsOptional() @IsString() @Matches(/^[1-9][0-9]{0,18}$/, { message: 'cursor is not one this API gave' })
  cursor?: string;
}

export class RecoverDto {
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 time' })
  since: string;
}
