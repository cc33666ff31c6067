import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class CreateDestinationDto {
  @ApiProperty({ maxLength: 255, example: 'warehouse' })
  @IsString() @IsNotEmpty() @MaxLength(255)
  name: string;

  @ApiProperty({ enum: ['postgres'] })
  @IsIn(['postgres'], { message: 'type must be postgres' })
  type: 'postgres';

  /** The Postgres schema loads go to; a plain lower-case identifier. */
  @ApiPropertyOptional({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'public', description: 'The Postgres schema loads go to.' })
  @IsOptional() @IsString() @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'schema must be a lower-case identifier of at most 63 characters' })
  schema?: string;
}
