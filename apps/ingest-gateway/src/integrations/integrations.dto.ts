import { IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength } from 'class-validator';

export class CreateIntegrationDto {
  /** Also names the Postgres schema the records land in, so a plain identifier. */
  @IsString() @Matches(/^[a-z][a-z0-9_]{0,49}$/, { message: 'name must be a lower-case identifier (a-z, 0-9, _) of at most 50 characters, starting with a letter' })
  name: string;

  @IsInt({ message: 'destination_id must be an integer' }) @Min(1, { message: 'destination_id must be an integer' })
  destination_id: number;

  /** A top-level field of the records: rows are upserted on it. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(50, { message: 'primary_key must be at most 50 characters' })
  primary_key?: string;
}
