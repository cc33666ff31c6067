import { PLANS } from '@posthooks/contracts';
import type { Plan } from '@posthooks/contracts';
import { IsBoolean, IsDateString, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateAccountDto {
  @IsString() @IsNotEmpty() @MaxLength(255)
  name: string;

  @IsIn(PLANS, { message: `plan must be one of ${PLANS.join(', ')}` })
  plan: Plan;

  @IsEmail({}, { message: 'notification_email must be an email address' }) @MaxLength(255)
  notification_email: string;

  /** Operators may set the trial's end (default: TRIAL_DAYS after creation). */
  @IsOptional() @IsDateString()
  trial_ends_at?: string;
}

export class ChangePlanDto {
  @IsIn(PLANS, { message: `plan must be one of ${PLANS.join(', ')}` })
  plan: Plan;
}

export class IssueKeyDto {
  @IsString() @IsNotEmpty() @MaxLength(255)
  label: string;
}

export class NotificationSettingsDto {
  @IsBoolean()
  undeliverable_email: boolean;
}
