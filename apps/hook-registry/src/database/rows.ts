import type { HookEventType, HookHeader, HookSettings, Plan } from '@posthooks/contracts';

/**
 * Rows as the registry's SQL returns them. The registry writes with explicit SQL (row
 * locks, the slot insert, cascades that must emit events), so plain row types serve
 * better than TypeORM entities; the schema itself is declared in the migration.
 */
export interface AccountRow {
  id: number;
  name: string;
  plan: Plan;
  notification_email: string;
  undeliverable_email: boolean;
  trial_ends_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ApiKeyRow {
  id: number;
  account_id: number;
  label: string;
  key_hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

export interface DestinationRow {
  id: number;
  account_id: number;
  name: string;
  type: 'postgres';
  schema: string;
  /** Sealed (SECRETS_KEY); null: the built-in database. */
  connection_url: string | null;
  created_at: Date;
}

export type DisabledReason = 'manual' | 'plan_downgrade' | 'endpoint_gone' | 'failing';

export interface HookRow {
  id: number;
  account_id: number;
  destination_id: number;
  slot: number;
  url: string;
  created_at: Date;
  modified_at: Date;
  disabled_at: Date | null;
  disabled_reason: DisabledReason | null;
  // Settings beyond Stitch (SPEC §9; migration 1764002000000).
  event_types: HookEventType[];
  integration_names: string[] | null;
  table_names: string[] | null;
  /** Values sealed with SECRETS_KEY. */
  headers: HookHeader[];
  rate_limit_per_s: number | null;
}

/** A hook row's settings, as HookChangedEvent carries them (header values sealed). */
export function hookSettingsOf(h: HookRow): HookSettings {
  return { event_types: h.event_types, integration_names: h.integration_names, table_names: h.table_names, headers: h.headers, rate_limit_per_s: h.rate_limit_per_s };
}

export interface HookSecretRow {
  id: number;
  hook_id: number;
  secret: string;
  created_at: Date;
  expires_at: Date | null;
}
