import { IsHookUrl } from '@posthooks/webhooks';
import { IsDateString, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, MaxLength, Min, ValidateIf } from 'class-validator';

/** dispatcher → email-notifier: a hook gave up on one event after its last attempt. */
export class HookUndeliverableEvent {
  /** The load event's id; with hook_id it names the undeliverable delivery. */
  @IsString() @IsNotEmpty() @MaxLength(255)
  event_id: string;

  @IsIn(['table.loaded', 'table.rejected', 'load.started', 'ping'])
  event_type: string;

  /** The Standard Webhooks `webhook-id` every attempt carried. */
  @IsString() @IsNotEmpty() @MaxLength(255)
  webhook_id: string;

  @IsInt() @Min(1)
  hook_id: number;

  @IsInt() @Min(1)
  client_id: number;

  /** The hook's URL as the registry stored it: the registry's own rule (a trailing dot, an IP literal, ...). */
  @IsHookUrl()
  url: string;

  @IsString() @MaxLength(255)
  integration_name: string;

  @IsString() @MaxLength(255)
  table_name: string;

  @IsInt() @Min(1)
  attempts: number;

  /** The last raw error: a status line or a network error. */
  @IsString() @MaxLength(4096)
  last_error: string;

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt()
  last_status_code?: number | null;

  @IsDateString()
  occurred_at: string;
}

/** dispatcher → hook-registry: the receiver said 410 Gone; the registry disables the hook. */
export class HookGoneEvent {
  @IsInt() @Min(1)
  hook_id: number;

  @IsInt() @Min(1)
  client_id: number;

  @IsString() @MaxLength(2048)
  url: string;

  @IsString() @IsNotEmpty() @MaxLength(255)
  webhook_id: string;

  @IsDateString()
  occurred_at: string;
}

/** registry → dispatcher: `POST /v1/hooks/{id}/test` asked for a ping to this hook. */
export class HookTestEvent {
  @IsInt() @Min(1)
  hook_id: number;

  @IsInt() @Min(1)
  client_id: number;

  @IsString() @IsNotEmpty() @MaxLength(255)
  event_id: string;

  @IsDateString()
  requested_at: string;
}
