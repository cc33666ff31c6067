import { defaultHookSettings, HookChangedEvent, HookSettings } from '@posthooks/contracts';

/** What a hook's settings select an event on (SPEC §9). */
export interface SelectableEvent {
  event_type: string;
  integration_name: string;
  table_name: string;
}

/** A hook's settings; a hook of a registry older than settings (none in its event) has the defaults. */
export function settingsOf(hook: Pick<HookChangedEvent, 'settings'>): HookSettings {
  return hook.settings ?? defaultHookSettings();
}

/**
 * Whether a hook is sent this load event: its type is one the hook subscribes to, and
 * its integration and table pass the hook's filters (null: all). Names match exactly, as
 * the publisher wrote them. A ping is not a load event and never comes here: it is always sent.
 */
export function hookSelects(settings: HookSettings, event: SelectableEvent): boolean {
  if (!settings.event_types.includes(event.event_type as HookSettings['event_types'][number])) return false;
  if (settings.integration_names !== null && !settings.integration_names.includes(event.integration_name)) return false;
  if (settings.table_names !== null && !settings.table_names.includes(event.table_name)) return false;
  return true;
}
