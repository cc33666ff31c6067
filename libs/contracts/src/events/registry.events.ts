import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDateString, IsEmail, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

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

  /** Events of a registry before issue 17 only (a schema name no loader uses any more). */
  @IsOptional() @IsString() @MaxLength(63)
  schema?: string;

  @IsIn(['postgres'])
  type: 'postgres';

  /**
   * The destination's `connection.url`, sealed (SECRETS_KEY): only the registry and the
   * load-simulator can open it, and only the load-simulator's view keeps it. Null (or
   * absent, before issue 17): the destination's database is the built-in one on the
   * services' server (`posthooks_dest_<id>`).
   */
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(8192)
  connection_url?: string | null;

  @IsBoolean()
  deleted: boolean;
}

export class HookSecret {
  @IsString() @IsNotEmpty()
  secret: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsDateString()
  expires_at: string | null;
}

/** The event types a hook may subscribe to (SPEC §9). */
export const HOOK_EVENT_TYPES = ['table.loaded', 'table.rejected', 'load.started'] as const;
export type HookEventType = (typeof HOOK_EVENT_TYPES)[number];
/** What a hook gets unless its settings say otherwise: what a Stitch hook gets. */
export const DEFAULT_HOOK_EVENT_TYPES: readonly HookEventType[] = ['table.loaded', 'table.rejected'];
/** At most this many custom headers per hook (SPEC §9). */
export const MAX_HOOK_HEADERS = 10;

/** A custom header sent on every attempt. Its value is sealed (SECRETS_KEY), like a signing secret. */
export class HookHeader {
  @IsString() @IsNotEmpty() @MaxLength(255)
  name: string;

  /** Sealed: only the registry and the dispatcher can open it. */
  @IsString()
  value: string;
}

/** A hook's settings beyond Stitch (SPEC §9). */
export class HookSettings {
  @IsArray() @ArrayMinSize(1) @IsIn(HOOK_EVENT_TYPES, { each: true })
  event_types: HookEventType[];

  /** Only these integrations' events; null: all. */
  @ValidateIf((_, v) => v !== null) @IsArray() @IsString({ each: true })
  integration_names: string[] | null;

  /** Only these tables' events; null: all. */
  @ValidateIf((_, v) => v !== null) @IsArray() @IsString({ each: true })
  table_names: string[] | null;

  @IsArray() @ArrayMaxSize(MAX_HOOK_HEADERS) @ValidateNested({ each: true }) @Type(() => HookHeader)
  headers: HookHeader[];

  /** At most this many arrivals at the receiver in any 1,000 ms; null: no limit. */
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(1000)
  rate_limit_per_s: number | null;
}

/** The settings of a hook that never had any set: every Stitch hook's. */
export function defaultHookSettings(): HookSettings {
  return { event_types: [...DEFAULT_HOOK_EVENT_TYPES], integration_names: null, table_names: null, headers: [], rate_limit_per_s: null };
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

  /** Absent in events of a registry older than the settings: read as defaultHookSettings(). */
  @IsOptional() @ValidateNested() @Type(() => HookSettings)
  settings?: HookSettings;

  @IsBoolean()
  deleted: boolean;
}

/**
 * `hook.verify` (registry → dispatcher, core NATS request): send one `ping` to this hook
 * now, once, and answer with what the receiver said. It carries the hook as the registry
 * has just saved it (secrets and header values sealed), so the ping uses the settings of
 * the request that asked for it even before the dispatcher's view has them.
 */
export class HookVerifyRequest {
  @IsString() @IsNotEmpty() @MaxLength(255)
  event_id: string;

  @IsDateString()
  requested_at: string;

  @ValidateNested() @Type(() => HookChangedEvent)
  hook: HookChangedEvent;
}

/** The dispatcher's answer to `hook.verify`: the receiver's status, or why there was none. */
export interface HookVerifyReply {
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
}
