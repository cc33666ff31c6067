import { customHeadersToSend } from './webhook-sender';

describe('customHeadersToSend', () => {
  it.each<[string, [string, string][], Record<string, string>]>([
    ['no headers', [], {}],
    ['a custom header and Authorization are sent', [['X-Api-Key', 'k'], ['Authorization', 'Bearer t']], { 'x-api-key': 'k', authorization: 'Bearer t' }],
    [
      'our own headers are never replaced, whatever their case',
      [['Webhook-Signature', 'v1,forged'], ['webhook-id', 'x'], ['Content-Type', 'text/plain'], ['USER-AGENT', 'evil'], ['Host', 'a'], ['Content-Length', '1'], ['Connection', 'close'], ['Transfer-Encoding', 'chunked'], ['X-Ok', '1']],
      { 'x-ok': '1' },
    ],
    ['a name that is not an HTTP token is dropped', [['X Bad', '1'], ['X-Bad:\r\nInjected', '1'], ['', '1'], ['X-Good', '2']], { 'x-good': '2' }],
    ['two spellings of one name: the last wins', [['X-Key', 'a'], ['x-key', 'b']], { 'x-key': 'b' }],
  ])('Test scenario: %s', (_, headers, expected) => {
    expect(customHeadersToSend(headers)).toEqual(expected);
  });
});
