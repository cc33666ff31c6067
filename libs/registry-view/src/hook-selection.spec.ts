import { defaultHookSettings, HookSettings } from '@posthooks/contracts';
import { hookSelects, settingsOf } from './hook-selection';

const settings = (extra: Partial<HookSettings> = {}): HookSettings => ({ ...defaultHookSettings(), ...extra });
const event = (event_type: string, integration_name = 'shopify', table_name = 'orders') => ({ event_type, integration_name, table_name });

describe('hookSelects', () => {
  it.each<[string, HookSettings, ReturnType<typeof event>, boolean]>([
    ['a default hook gets table.loaded', settings(), event('table.loaded'), true],
    ['a default hook gets table.rejected', settings(), event('table.rejected'), true],
    ['a default hook does not get load.started', settings(), event('load.started'), false],
    ['a hook subscribed to load.started only gets it', settings({ event_types: ['load.started'] }), event('load.started'), true],
    ['a hook subscribed to load.started only does not get table.loaded', settings({ event_types: ['load.started'] }), event('table.loaded'), false],
    ['an integration filter lets its integration through', settings({ integration_names: ['shopify', 'stripe'] }), event('table.loaded', 'stripe'), true],
    ['an integration filter stops another integration', settings({ integration_names: ['shopify'] }), event('table.loaded', 'hubspot'), false],
    ['an integration filter matches the exact name, not a prefix or another case', settings({ integration_names: ['shop'] }), event('table.loaded', 'Shop'), false],
    ['a table filter lets its table through', settings({ table_names: ['orders'] }), event('table.loaded', 'shopify', 'orders'), true],
    ['a table filter stops another table', settings({ table_names: ['orders'] }), event('table.loaded', 'shopify', 'customers'), false],
    ['an empty table list lets nothing through (null is "all")', settings({ table_names: [] }), event('table.loaded'), false],
    ['both filters must pass', settings({ integration_names: ['shopify'], table_names: ['orders'] }), event('table.loaded', 'stripe', 'orders'), false],
    ['an unknown event type is never selected', settings(), event('table.truncated'), false],
  ])('Test scenario: %s', (_, s, e, expected) => {
    expect(hookSelects(s, e)).toBe(expected);
  });
});

describe('settingsOf', () => {
  it('Test scenario: a hook event of an older registry (no settings) has the defaults', () => {
    expect(settingsOf({})).toEqual({ event_types: ['table.loaded', 'table.rejected'], integration_names: null, table_names: null, headers: [], rate_limit_per_s: null });
  });

  it('Test scenario: a hook with settings has its own', () => {
    const own = settings({ event_types: ['load.started'] });
    expect(settingsOf({ settings: own })).toBe(own);
  });
});
