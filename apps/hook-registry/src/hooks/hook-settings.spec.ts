import { defaultHookSettings } from '@posthooks/contracts';
import { applySettings, changesSettings, MASKED, parseSettingsBody, settingsView } from './hook-settings';

const message = (body: unknown) => {
  const parsed = parseSettingsBody(body);
  return parsed.ok ? 'accepted' : parsed.message;
};
const headers = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`X-H${i}`, 'v']));

describe('parseSettingsBody', () => {
  it.each<[string, unknown, RegExp]>([
    ['Test scenario: not an object', ['event_types'], /^the body must be a JSON object/],
    ['Test scenario: null', null, /^the body must be a JSON object/],
    ['Test scenario: an unknown key', { event_type: ['table.loaded'] }, /^unknown key "event_type"/],
    ['Test scenario: verify not a boolean', { verify: 'yes' }, /^verify must be true or false/],
    ['Test scenario: an unknown event type', { event_types: ['ping'] }, /^event_types: "ping" is not an event type/],
    ['Test scenario: an event type not a string', { event_types: [1] }, /^event_types: 1 is not an event type/],
    ['Test scenario: empty event_types', { event_types: [] }, /^event_types must be a non-empty array/],
    ['Test scenario: event_types null', { event_types: null }, /^event_types must be a non-empty array/],
    ['Test scenario: an event type twice', { event_types: ['table.loaded', 'table.loaded'] }, /listed twice/],
    ['Test scenario: [] as a filter', { integration_names: [] }, /^integration_names: \[\] would match no event; use null/],
    ['Test scenario: a filter that is a string', { table_names: 'orders' }, /^table_names must be null \(all\) or an array/],
    ['Test scenario: an empty name', { table_names: [''] }, /^table_names: each name must be a string of 1 to 255/],
    ['Test scenario: a name too long', { table_names: ['t'.repeat(256)] }, /^table_names: each name must be/],
    ['Test scenario: a name that is not a string', { table_names: [7] }, /^table_names: each name must be/],
    ['Test scenario: a name with NUL', { table_names: ['a\u0000b'] }, /control character/],
    ['Test scenario: a name with a lone surrogate', { table_names: ['a\ud800'] }, /not valid Unicode/],
    ['Test scenario: 101 names', { integration_names: Array.from({ length: 101 }, (_, i) => `i${i}`) }, /at most 100 names/],
    ['Test scenario: a name twice', { integration_names: ['shopify', 'shopify'] }, /"shopify" is listed twice/],
    ['Test scenario: headers as an array', { headers: [{ name: 'X-A', value: 'v' }] }, /^headers must be an object/],
    ['Test scenario: 11 headers', { headers: headers(11) }, /at most 10 headers/],
    ['Test scenario: a name with a space', { headers: { 'X Api': 'v' } }, /"X Api" is not a valid header name/],
    ['Test scenario: a name with a colon', { headers: { 'X-Api:': 'v' } }, /is not a valid header name/],
    ['Test scenario: a unicode name', { headers: { 'X-Ключ': 'v' } }, /is not a valid header name/],
    ['Test scenario: an empty name', { headers: { '': 'v' } }, /"" is not a valid header name/],
    ['Test scenario: a name of 256 characters', { headers: { ['X'.repeat(256)]: 'v' } }, /is not a valid header name/],
    ['Test scenario: webhook-* is ours', { headers: { 'Webhook-Signature': 'v' } }, /Webhook-Signature is set by posthooks itself/],
    ['Test scenario: Content-Type is ours', { headers: { 'CONTENT-TYPE': 'text/plain' } }, /is set by posthooks itself/],
    ['Test scenario: host', { headers: { host: 'evil.test' } }, /is set by posthooks itself/],
    ['Test scenario: user-agent', { headers: { 'User-Agent': 'x' } }, /is set by posthooks itself/],
    ['Test scenario: transfer-encoding', { headers: { 'Transfer-Encoding': 'chunked' } }, /is set by posthooks itself/],
    ['Test scenario: connection', { headers: { Connection: 'close' } }, /is set by posthooks itself/],
    ['Test scenario: content-length', { headers: { 'Content-Length': '1' } }, /is set by posthooks itself/],
    ['Test scenario: upgrade (the HTTP client cannot send it)', { headers: { Upgrade: 'h2c' } }, /is set by posthooks itself/],
    ['Test scenario: the same name in two cases', { headers: { 'X-Key': 'a', 'x-key': 'b' } }, /"x-key" is given twice/],
    ['Test scenario: a value not a string', { headers: { 'X-Key': 1 } }, /the value of X-Key must be a string/],
    ['Test scenario: a value with CR LF', { headers: { 'X-Key': 'a\r\nX-Evil: 1' } }, /the value of X-Key has a control character/],
    ['Test scenario: a value with LF', { headers: { 'X-Key': 'a\nb' } }, /control character/],
    ['Test scenario: a value with NUL', { headers: { 'X-Key': 'a\u0000' } }, /control character/],
    ['Test scenario: a value with DEL', { headers: { 'X-Key': 'a\u007f' } }, /control character/],
    ['Test scenario: a value outside ASCII', { headers: { 'X-Key': 'clé' } }, /outside ASCII/],
    ['Test scenario: a value of 1,025 bytes', { headers: { 'X-Key': 'k'.repeat(1025) } }, /the value of X-Key is over 1024 bytes/],
    ['Test scenario: rate 1.5', { rate_limit_per_s: 1.5 }, /^rate_limit_per_s must be an integer from 1 to 1000/],
    ['Test scenario: rate "1000" as a string', { rate_limit_per_s: '1000' }, /^rate_limit_per_s must be an integer/],
    ['Test scenario: rate 0', { rate_limit_per_s: 0 }, /^rate_limit_per_s must be an integer/],
    ['Test scenario: rate 1001', { rate_limit_per_s: 1001 }, /^rate_limit_per_s must be an integer/],
    ['Test scenario: rate true', { rate_limit_per_s: true }, /^rate_limit_per_s must be an integer/],
  ])('%s', (_, body, expected) => {
    expect(message(body)).toMatch(expected);
  });

  it('Test scenario: a refused value is never in the message', () => {
    const secret = 'sk_live_do_not_show';
    for (const body of [{ headers: { 'X-Key': `${secret}\n` } }, { headers: { 'X-Key': `${secret}é` } }, { headers: { 'X-Key': secret.repeat(100) } }]) {
      expect(message(body)).not.toContain(secret);
    }
  });

  it.each<[string, unknown]>([
    ['Test scenario: nothing at all', {}],
    ['Test scenario: every key at its limit', { event_types: ['load.started'], integration_names: null, table_names: Array.from({ length: 100 }, (_, i) => `t${i}`), headers: headers(10), rate_limit_per_s: 1000 }],
    ['Test scenario: authorization is allowed', { headers: { Authorization: 'Bearer abc' } }],
    ['Test scenario: a value of exactly 1,024 bytes, tabs and spaces', { headers: { 'X-Key': `a\tb ${'k'.repeat(1020)}` } }],
    ['Test scenario: an empty value and no headers', { headers: {} }],
    ['Test scenario: rate 1 and null', { rate_limit_per_s: 1 }],
    ['Test scenario: verify alone', { verify: true }],
  ])('%s is accepted', (_, body) => {
    expect(message(body)).toBe('accepted');
  });

  it('Test scenario: verify alone changes nothing stored; any settings key does', () => {
    const parse = (body: unknown) => {
      const parsed = parseSettingsBody(body);
      if (!parsed.ok) throw new Error(parsed.message);
      return parsed.value;
    };
    expect(changesSettings(parse({ verify: true }))).toBe(false);
    expect(changesSettings(parse({}))).toBe(false);
    expect(changesSettings(parse({ rate_limit_per_s: null }))).toBe(true);
    expect(changesSettings(parse({ headers: {} }))).toBe(true);
  });
});

describe('applySettings', () => {
  const seal = (clear: string) => `sealed(${clear})`;
  const current = { ...defaultHookSettings(), integration_names: ['shopify'], headers: [{ name: 'X-Api-Key', value: 'sealed(old)' }, { name: 'Authorization', value: 'sealed(auth)' }] };

  it('Test scenario: keys left out keep their setting; given ones replace it', () => {
    const applied = applySettings(current, { event_types: ['load.started'], rate_limit_per_s: 5, verify: false }, seal);
    expect(applied).toEqual({ ok: true, value: { ...current, event_types: ['load.started'], rate_limit_per_s: 5 } });
  });

  it('Test scenario: headers replace the whole set; *** keeps a stored value whatever the case; new values are sealed', () => {
    const applied = applySettings(current, { headers: [{ name: 'x-api-key', value: MASKED }, { name: 'X-Other', value: 'new' }], verify: false }, seal);
    expect(applied).toEqual({ ok: true, value: { ...current, headers: [{ name: 'x-api-key', value: 'sealed(old)' }, { name: 'X-Other', value: 'sealed(new)' }] } });
  });

  it('Test scenario: *** for a header the hook does not have is refused', () => {
    expect(applySettings(current, { headers: [{ name: 'X-New', value: MASKED }], verify: false }, seal)).toEqual({ ok: false, message: 'headers: X-New is "***" (keep the stored value), but the hook has no X-New header' });
  });

  it('Test scenario: {} removes every header', () => {
    expect(applySettings(current, { headers: [], verify: false }, seal)).toMatchObject({ ok: true, value: { headers: [] } });
  });

  it('Test scenario: the view masks every value and keeps names as written', () => {
    expect(settingsView(current)).toEqual({ event_types: ['table.loaded', 'table.rejected'], integration_names: ['shopify'], table_names: null, headers: { 'X-Api-Key': '***', Authorization: '***' }, rate_limit_per_s: null });
  });
});
