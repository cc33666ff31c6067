import { Webhook } from 'standardwebhooks';
import { generateSigningSecret } from './secrets';
import { signWebhook } from './signature';

describe('signWebhook', () => {
  const body = '{"event_type":"table.loaded","event_id":"evt_1","client_id":1,"tables":[]}';
  const id = 'msg_2b8Yx0T5cXw1';
  const timestamp = Math.floor(Date.now() / 1000);
  const [current, previous, stranger] = [generateSigningSecret(), generateSigningSecret(), generateSigningSecret()];
  const signature = signWebhook({ id, timestamp, body, secrets: [current, previous] });

  function headers(sig = signature): Record<string, string> {
    return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sig };
  }

  it('has one v1 entry per secret, separated by a single space', () => {
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies with the standardwebhooks library under each secret of a rotation', () => {
    expect(new Webhook(current).verify(body, headers())).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers())).toEqual(JSON.parse(body));
  });

  it('does not verify under another secret', () => {
    expect(() => new Webhook(stranger).verify(body, headers())).toThrow('No matching signature found');
  });

  it('does not verify a modified body', () => {
    expect(() => new Webhook(current).verify(body.replace('"client_id":1', '"client_id":2'), headers())).toThrow(
      'No matching signature found',
    );
  });

  it('does not verify with another id', () => {
    expect(() => new Webhook(current).verify(body, { ...headers(), 'webhook-id': 'msg_other' })).toThrow('No matching signature found');
  });

  it('signs exactly what the library signs', () => {
    const at = new Date(timestamp * 1000);
    expect(signWebhook({ id, timestamp, body, secrets: [current] })).toBe(new Webhook(current).sign(id, at, body));
  });

  it('signs the body as UTF-8', () => {
    const unicode = '{"name":"Bücher ✓"}';
    const sig = signWebhook({ id, timestamp, body: unicode, secrets: [current] });
    expect(new Webhook(current).verify(unicode, headers(sig))).toEqual({ name: 'Bücher ✓' });
  });

  it('refuses to sign without a secret, with a malformed secret or a fractional timestamp', () => {
    expect(() => signWebhook({ id, timestamp, body, secrets: [] })).toThrow('no signing secret');
    expect(() => signWebhook({ id, timestamp, body, secrets: ['not-a-secret'] })).toThrow('whsec_<base64>');
    expect(() => signWebhook({ id, timestamp, body, secrets: ['whsec_%%%'] })).toThrow('whsec_<base64>');
    expect(() => signWebhook({ id, timestamp: Date.now() / 1000, body, secrets: [current] })).toThrow('Unix seconds');
  });
});
