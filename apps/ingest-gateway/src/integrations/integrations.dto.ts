import { IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength, ValidateBy } from 'class-validator';

/**
 * The records' schema is `<name>_<id>`, and Postgres refuses a schema name that starts
 * with `pg_` (reserved for system schemas): `pg` itself would make `pg_<id>`.
 */
export const RESERVED_NAME_RULE = 'name must not be pg or start with pg_: Postgres reserves pg_ for its own schemas';
export function isReservedSchemaPrefix(name: unknown): boolean {
  return typeof name === 'string' && /^pg(_|$)/.test(name);
}

export class CreateIntegrationDto {
  /** Also names the Postgres schema the records land in, so a plain identifier. */
  @IsString() @Matches(/^[a-z][a-z0-9_]{0,49}$/, { message: 'name must be a lower-case identifier (a-z, 0-9, _) of at most 50 characters, starting with a letter' })
  @ValidateBy({ name: 'isNotReservedSchemaPrefix', validator: { validate: (v: unknown) => !isReservedSchemaPrefix(v) } }, { message: RESERVED_NAME_RULE })
  name: string;

  @IsInt({ message: 'destination_id must be an integer' }) @Min(1, { message: 'destination_id must be an integer' })
  destination_id: number;

  /** A top-level field of the records: rows are upserted on it. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(50, { message: 'primary_key must be at most 50 characters' })
  primary_key?: string;
}
