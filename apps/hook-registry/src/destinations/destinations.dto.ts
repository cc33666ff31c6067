import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

export class DestinationConnectionDto {
  @ApiProperty({ example: 'postgres://loader:secret@warehouse.internal:5432/analytics?sslmode=require', description: 'Checked before saving; the password is stored sealed and shown as ***.' })
  @IsString({ message: 'connection.url must be a string' }) @IsNotEmpty({ message: 'connection.url must not be empty' }) @MaxLength(2048, { message: 'connection.url must be at most 2048 characters' })
  url: string;
}

export class CreateDestinationDto {
  @ApiProperty({ maxLength: 255, example: 'warehouse' })
  @IsString() @IsNotEmpty() @MaxLength(255)
  name: string;

  @ApiProperty({ enum: ['postgres'] })
  @IsIn(['postgres'], { message: 'type must be postgres' })
  type: 'postgres';

  /** Without it, the destination gets a database of its own on the services' server (`posthooks_dest_<id>`). */
  @ApiPropertyOptional({ type: DestinationConnectionDto, description: "The destination's Postgres; without it, a database of its own on posthooks' server (posthooks_dest_<id>)." })
  @IsOptional() @IsObject({ message: 'connection must be an object {"url"}' }) @ValidateNested() @Type(() => DestinationConnectionDto)
  connection?: DestinationConnectionDto;
}

/** PUT: a new name and/or a new connection (checked again); `null` moves it back to the built-in database. */
export class UpdateDestinationDto {
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(255)
  name?: string;

  @ApiPropertyOptional({ type: DestinationConnectionDto, nullable: true })
  @IsOptional() @IsObject({ message: 'connection must be an object {"url"} or null' }) @ValidateNested() @Type(() => DestinationConnectionDto)
  connection?: DestinationConnectionDto | null;
}
