import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIsoTimestamp, PLANS } from '@posthooks/contracts';
import type { Plan } from '@posthooks/contracts';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/** Also the example in /docs, so the two say the same. */
export const PLAN_MESSAGE = `plan must be one of ${PLANS.join(', ')}`;

export class CreateAccountDto {
  @ApiProperty({ maxLength: 255, example: 'acme' })
  @IsString() @IsNotEmpty() @MaxLength(255)
  name: string;

  @ApiProperty({ enum: PLANS, example: 'advanced' })
  @IsIn(PLANS, { message: PLAN_MESSAGE })
  plan: Plan;

  @ApiProperty({ format: 'email', maxLength: 255, example: 'data@acme.test', description: 'Where undeliverable-hook emails go.' })
  @IsEmail({}, { message: 'notification_email must be an email address' }) @MaxLength(255)
  notification_email: string;

  /** Operators may set the trial's end (default: TRIAL_DAYS after creation). */
  @ApiPropertyOptional({ format: 'date-time', description: "The free trial's end; default TRIAL_DAYS (14) after creation." })
  // Not IsDateString: it lets through `2021-W01` and year 0, which the insert answered with a 500.
  @IsOptional() @IsIsoTimestamp({ message: 'trial_ends_at must be an ISO 8601 time' })
  trial_ends_at?: string;
}

export class ChangePlanDto {
  @ApiProperty({ enum: PLANS, example: 'standard' })
  @IsIn(PLANS, { message: PLAN_MESSAGE })
  plan: Plan;
}

export class IssueKeyDto {
  @ApiProperty({ maxLength: 255, example: 'alice', description: 'Names the key (a team member) in every audit record.' })
  @IsString() @IsNotEmpty() @MaxLength(255)
  label: string;
}

export class NotificationSettingsDto {
  @ApiProperty({ description: 'Whether undeliverable hooks are emailed about.' })
  @IsBoolean()
  undeliverable_email: boolean;
}
