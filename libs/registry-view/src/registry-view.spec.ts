import { AccountChangedEvent, DestinationChangedEvent, HookChangedEvent, Subjects } from '@posthooks/contracts';
import { SecretBox } from '@posthooks/webhooks';
import { RegistryView } from './registry-view';

const account = (account_id: number): AccountChangedEvent => ({ account_id, name: 'a', plan: 'advanced', trial_ends_at: null, notification_email: 'a@example.test', undeliverable_email: true }) as AccountChangedEvent;
const hook = (hook_id: number, account_id: number, extra: Partial<HookChangedEvent> = {}): HookChangedEvent =>
  ({ hook_id, account_id, destination_id: 1, url: `https://example.com/${hook_id}`, disabled_at: null, disabled_reason: null, secrets: [], deleted: false, ...extra }) as HookChangedEvent;

describe('RegistryView.hooksToNotify', () => {
  const ids = (hs: HookChangedEvent[]) => hs.map((h) => h.hook_id);

  it("returns the account's enabled hooks only, of the destination when one is named", () => {
    const view = new RegistryView();
    view.apply(Subjects.AccountChanged, account(1));
    view.apply(Subjects.AccountChanged, account(2));
    view.apply(Subjects.HookChanged, hook(10, 1));
    view.apply(Subjects.HookChanged, hook(11, 1, { destination_id: 2 }));
    view.apply(Subjects.HookChanged, hook(12, 1, { disabled_at: '2026-11-24T00:00:00Z' }));
    view.apply(Subjects.HookChanged, hook(20, 2));
    expect(ids(view.hooksToNotify(1))).toEqual([10, 11]);
    expect(ids(view.hooksToNotify(1, 2))).toEqual([11]);
    expect(ids(view.hooksToNotify(2))).toEqual([20]);
    expect(ids(view.hooksToNotify(3))).toEqual([]);
  });

  it('follows changes: a deleted hook, a re-enabled one, and a hook that changes account', () => {
    const view = new RegistryView();
    view.apply(Subjects.AccountChanged, account(1));
    view.apply(Subjects.AccountChanged, account(2));
    view.apply(Subjects.HookChanged, hook(10, 1));
    view.apply(Subjects.HookChanged, hook(11, 1, { disabled_at: '2026-11-24T00:00:00Z' }));
    view.apply(Subjects.HookChanged, hook(10, 1, { deleted: true }));
    view.apply(Subjects.HookChanged, hook(11, 1));
    expect(ids(view.hooksToNotify(1))).toEqual([11]);
    view.apply(Subjects.HookChanged, hook(11, 2));
    expect(ids(view.hooksToNotify(1))).toEqual([]);
    expect(ids(view.hooksToNotify(2))).toEqual([11]);
  });
});

describe('RegistryView secrets', () => {
  const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'));
  const live = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
  const old = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
  const now = new Date('2026-11-24T12:00:00Z');
  const sealedHook = (expiresAt: string) => hook(10, 1, { secrets: [{ secret: box.seal(live), expires_at: null }, { secret: box.seal(old), expires_at: expiresAt }] });

  it.each([
    ['the signing view opens the live secrets, the old one within its grace', true, '2026-11-25T00:00:00Z', [live, old]],
    ['the signing view drops an old secret past its grace', true, '2026-11-24T00:00:00Z', [live]],
    ['a view without the key holds no secret, not even sealed', false, '2026-11-25T00:00:00Z', []],
  ])('Test scenario: %s', (_, signs, expiresAt, expected) => {
    const view = signs ? new RegistryView(box) : new RegistryView();
    view.apply(Subjects.AccountChanged, account(1));
    view.apply(Subjects.HookChanged, sealedHook(expiresAt));
    expect(view.signingSecrets(10, now)).toEqual(expected);
    expect(view.hooks.get(10)!.secrets).toHaveLength(signs ? 2 : 0);
    expect(JSON.stringify([...view.hooks.values()])).not.toContain('whsec_');
  });

  it('Test scenario: a secret sealed under a key the signing view lacks fails loudly, naming no secret', () => {
    const view = new RegistryView(new SecretBox(Buffer.alloc(32, 8).toString('base64')));
    view.apply(Subjects.HookChanged, sealedHook('2026-11-25T00:00:00Z'));
    expect(() => view.signingSecrets(10, now)).toThrow(/neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS/);
  });
});

describe('RegistryView custom headers', () => {
  const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'));
  const value = 'key-3f9a-custom-header-value';
  const withHeaders = (headers: { name: string; value: string }[]) =>
    hook(10, 1, { settings: { event_types: ['table.loaded'], integration_names: null, table_names: null, headers, rate_limit_per_s: null } });

  it('Test scenario: the signing view opens each header value, in order', () => {
    const view = new RegistryView(box);
    view.apply(Subjects.HookChanged, withHeaders([{ name: 'X-Api-Key', value: box.seal(value) }, { name: 'Authorization', value: box.seal('Bearer t') }]));
    expect(view.customHeaders(10)).toEqual({ ok: true, headers: [['X-Api-Key', value], ['Authorization', 'Bearer t']] });
    expect(JSON.stringify([...view.hooks.values()])).not.toContain(value);
  });

  it('Test scenario: a view without the key holds no header, not even sealed, and keeps the other settings', () => {
    const view = new RegistryView();
    view.apply(Subjects.HookChanged, withHeaders([{ name: 'X-Api-Key', value: box.seal(value) }]));
    expect(view.hooks.get(10)!.settings).toEqual({ event_types: ['table.loaded'], integration_names: null, table_names: null, headers: [], rate_limit_per_s: null });
    expect(view.customHeaders(10)).toEqual({ ok: true, headers: [] });
  });

  it('Test scenario: a hook without settings (an older registry) and an unknown hook have no header', () => {
    const view = new RegistryView(box);
    view.apply(Subjects.HookChanged, hook(10, 1));
    expect(view.customHeaders(10)).toEqual({ ok: true, headers: [] });
    expect(view.customHeaders(99)).toEqual({ ok: true, headers: [] });
  });

  it.each([
    ['a value in clear', value, /X-Api-Key cannot be sent: its value is not sealed/],
    ['a value sealed under another key', new SecretBox(Buffer.alloc(32, 8).toString('base64')).seal(value), /X-Api-Key cannot be sent: sealed under key \w+, which is neither/],
    ['a malformed sealed value', 'enc:v1:zz', /X-Api-Key cannot be sent: malformed sealed secret/],
  ])('Test scenario: %s is refused, naming the header and never the value', (_, sealed, message) => {
    const view = new RegistryView(box);
    view.apply(Subjects.HookChanged, withHeaders([{ name: 'X-Api-Key', value: sealed }]));
    const opened = view.customHeaders(10);
    expect(opened.ok).toBe(false);
    if (!opened.ok) {
      expect(opened.error).toMatch(message);
      expect(opened.error).not.toContain(value);
    }
  });
});

describe("RegistryView and destinations' connections", () => {
  const box = new SecretBox('dGVzdC1zZWNyZXRzLWtleS0wMTIzNDU2Nzg5YWJjZGU=');
  const url = 'postgres://loader:s3cret@warehouse.internal/analytics';
  const destination = (connection_url: string | null) =>
    ({ destination_id: 5, account_id: 1, name: 'dw', type: 'postgres', connection_url, deleted: false }) as DestinationChangedEvent;

  it('Test scenario: a view without the destination opener (gateway, dispatcher, notifier) keeps no connection URL, not even sealed', () => {
    const view = new RegistryView(box);
    view.apply(Subjects.DestinationChanged, destination(box.seal(url)));
    expect(view.destinations.get(5)?.connection_url).toBeNull();
    expect(view.destinationConnectionUrl(5)).toBeNull();
  });

  it("Test scenario: the loader's view keeps it sealed and opens it on demand; a built-in destination has none", () => {
    const view = new RegistryView(undefined, box);
    view.apply(Subjects.DestinationChanged, destination(box.seal(url)));
    expect(view.destinations.get(5)?.connection_url).toMatch(/^enc:v1:/);
    expect(view.destinationConnectionUrl(5)).toBe(url);
    view.apply(Subjects.DestinationChanged, destination(null));
    expect(view.destinationConnectionUrl(5)).toBeNull();
  });
});
