import { AccountChangedEvent, HookChangedEvent, Subjects } from '@posthooks/contracts';
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
