import { Subjects, validateEvent } from '../index';

const event = (url: string) => ({
  event_id: 'ev-1',
  event_type: 'table.loaded',
  webhook_id: `msg_${'0'.repeat(32)}`,
  hook_id: 1,
  client_id: 1,
  url,
  integration_name: 'shopify',
  table_name: 'orders',
  attempts: 6,
  last_error: 'HTTP 503',
  last_status_code: 503,
  occurred_at: '2026-11-30T00:00:00.000Z',
});

describe('hook.undeliverable url', () => {
  it.each(['https://host.example.com./x', 'https://localhost:4000/hooks/demo', 'https://[2606:4700:4700::1111]/hook', 'https://unknown.invalid/'])(
    'Test scenario: %s, a URL the registry accepts, makes a valid event',
    (url) => {
      expect(validateEvent(Subjects.HookUndeliverable, event(url))).toMatchObject({ ok: true });
    },
  );

  it.each(['http://example.com/', 'not a url', 'https://u:p@example.com/'])('Test scenario: %s, which the registry refuses, does not', (url) => {
    expect(validateEvent(Subjects.HookUndeliverable, event(url))).toMatchObject({ ok: false, reason: expect.stringMatching(/url must be a hook URL/) });
  });
});
