import { IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength, ValidateBy } from 'class-validator';

/**
 * The records' schema is the integration's name (SPEC §7), so a name must be one Postgres
 * takes for a schema a loader may create: not `pg_...` (reserved for system schemas) nor
 * `pg`, and not `information_schema` or `public`, which every database has already.
 */
export const RESERVED_NAME_RULE = 'name must not be pg, start with pg_, or be information_schema or public: Postgres keeps those schema names for itself';
export function isReservedSchemaName(name: unknown): boolean {
  return typeof name === 'string' && (/^pg(_|$)/.test(name) || name === 'information_schema' || name === 'public');
}

export class CreateIntegrationDto {
  /** Also names the Postgres schema the records land in, so a plain identifier (at most 50 of Postgres's 63 bytes). */
  @IsString() @Matches(/^[a-z][a-z0-9_]{0,49}$/, { message: 'name must be a lower-case identifier (a-z, 0-9, _) of at most 50 characters, starting with a letter' })
  @ValidateBy({ name: 'isNotReservedSchemaName', validator: { validate: (v: unknown) => !isReservedSchemaName(v) } }, { message: RESERVED_NAME_RULE })
  name: string;

  @IsInt({ message: 'destination_id must be an integer' }) @Min(1, { message: 'destination_id must be an integer' })
  destination_id: number;

  /** A top-level field of the records: rows are upserted on it. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(50, { message: 'primary_key must be at most 50 characters' })
  primary_key?: string;
}
