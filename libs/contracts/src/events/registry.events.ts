import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsDateString, IsEmail, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

/**
 * hook-registry → everyone: each event carries the full current state of one object
 * (event-carried state transfer), so a consumer keeps its own view by applying them in
 * stream order, and rebuilds it by replaying the REGISTRY stream from the start.
 */
export const PLANS = ['free_trial', 'standard', 'advanced', 'premium', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/**
 * Post-load hooks are an entitlement of advanced, premium and enterprise, and of a
 * free trial until it ends (SPEC §2). Every service decides it with this function.
 */
export function isEntitled(plan: Plan, trialEndsAt: string | Date | null, now = new Date()): boolean {
  if (plan === 'advanced' || plan === 'premium' || plan === 'enterprise') return true;
  return plan === 'free_trial' && trialEndsAt !== null && new Date(trialEndsAt).getTime() > now.getTime();
}

abstract class RegistryEvent {
  /** Label of the API key (or `admin`, `system`) that made the change: the audit trail. */
  @IsString() @MaxLength(255)
  changed_by: string;

  @IsDateString()
  changed_at: string;
}

export class AccountChangedEvent extends RegistryEvent {
  @IsInt() @Min(1)
  account_id: number;

  @IsString() @MaxLength(255)
  name: string;

  @IsIn(PLANS)
  plan: Plan;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  trial_ends_at: string | null;

  @IsEmail()
  notification_email: string;

  @IsBoolean()
  undeliverable_email: boolean;
}

export class ApiKeyChangedEvent extends RegistryEvent {
  @IsInt() @Min(1)
  key_id: number;

  @IsInt() @Min(1)
  account_id: number;

  @IsString() @MaxLength(255)
  label: string;

  /** SHA-256 of the key, hex: lets other services authenticate without a call. */
  @IsString() @IsNotEmpty()
  key_hash: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  revoked_at: string | null;
}

export class DestinationChangedEvent extends RegistryEvent {
  @IsInt() @Min(1)
  destination_id: number;

  @IsInt() @Min(1)
  account_id: number;

  @IsString() @MaxLength(255)
  name: string;

  @IsString() @MaxLength(63)
  schema: string;

  @IsIn(['postgres'])
  type: 'postgres';

  @IsBoolean()
  deleted: boolean;
}

export class HookSecret {
  @IsString() @IsNotEmpty()
  secret: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  expires_at: string | null;
}

export class HookChangedEvent extends RegistryEvent {
  @IsInt() @Min(1)
  hook_id: number;

  @IsInt() @Min(1)
  account_id: number;

  @IsInt() @Min(1)
  destination_id: number;

  @IsString() @MaxLength(2048)
  url: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  disabled_at: string | null;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString()
  disabled_reason: string | null;

  /** Signing secrets, newest first: after a rotation the old one signs too until it expires. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => HookSecret)
  secrets: HookSecret[];

  @IsBoolean()
  deleted: boolean;
}
