import { HookUndeliverableEvent } from '@posthooks/contracts';
import { digestEmail, escapeHtml, SUBJECT, undeliverableEmail } from './email-content';

const event = (i: number, extra: Partial<HookUndeliverableEvent> = {}): HookUndeliverableEvent => ({
  event_id: `ev-${i}`,
  event_type: 'table.loaded',
  webhook_id: `msg_${i}`,
  hook_id: 7,
  client_id: 3,
  url: 'https://hooks.acme.test/in',
  integration_name: 'shopify',
  table_name: `t${i}`,
  attempts: 6,
  last_error: 'HTTP 503',
  last_status_code: 503,
  occurred_at: `2026-11-24T10:00:0${i % 10}.000Z`,
  ...extra,
});
const ctx = { accountId: 3, windowMs: 3_600_000 };

describe('undeliverableEmail', () => {
  it('tells what failed in text and HTML, with user text escaped in the HTML only', () => {
    const mail = undeliverableEmail(event(1, { url: 'https://hooks.acme.test/in?a=1&b=<2>', last_error: 'HTTP 502 "bad gateway"' }), ctx);
    expect(mail.subject).toBe(SUBJECT);
    expect(mail.text).toMatch(/^Webhook URL: +https:\/\/hooks\.acme\.test\/in\?a=1&b=<2>$/m);
    expect(mail.text).toMatch(/^Last error: +HTTP 502 "bad gateway"$/m);
    expect(mail.text).toContain('After 6 attempts');
    expect(mail.html).toContain('https://hooks.acme.test/in?a=1&amp;b=&lt;2&gt;');
    expect(mail.html).toContain('HTTP 502 &quot;bad gateway&quot;');
    expect(mail.html).not.toMatch(/<2>|"bad/);
  });

  it("links to the hook's deliveries in the console when CONSOLE_URL is set, and not otherwise", () => {
    expect(undeliverableEmail(event(1), ctx).text).not.toContain('console:');
    const mail = undeliverableEmail(event(1), { ...ctx, consoleUrl: 'https://posthooks.acme.test/console/' });
    expect(mail.text).toContain("See this hook's deliveries in the console: https://posthooks.acme.test/console/#/hooks/7/deliveries");
    expect(mail.html).toContain('<a href="https://posthooks.acme.test/console/#/hooks/7/deliveries">');
    // The API instructions stay beside the link.
    expect(mail.text).toContain('POST /v1/hooks/7/recover');
  });
});

describe('digestEmail', () => {
  it('counts every folded event, lists the first few and says how many more', () => {
    const samples = Array.from({ length: 10 }, (_, i) => event(i));
    const mail = digestEmail({ url: 'https://hooks.acme.test/in', window_opened_at: 'A', window_closes_at: 'B', samples, latest: event(42, { last_error: 'timeout after 30000 ms' }) }, 997, ctx);
    expect(mail.subject).toBe(SUBJECT);
    expect(mail.text).toContain('could not deliver 997 more post-load notifications to your webhook between A and B.');
    expect(mail.text).toContain('one digest per hour');
    expect(mail.text).toContain('The first 10:');
    expect(mail.text).toContain('... and 987 more.');
    expect(mail.text).toContain('Latest error: timeout after 30000 ms (after 6 attempts)');
    expect(mail.text.match(/^ {2}- /gm)).toHaveLength(10);
  });

  it('lists all of them when they fit, in singular when there is one', () => {
    const mail = digestEmail({ url: 'https://x.test/', window_opened_at: 'A', window_closes_at: 'B', samples: [event(1)], latest: event(1) }, 1, { accountId: 3, windowMs: 90_000 });
    expect(mail.text).toContain('1 more post-load notification to your webhook');
    expect(mail.text).toContain('one digest per 90 seconds');
    expect(mail.text).toContain('They are:');
    expect(mail.text).not.toContain('more.');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
