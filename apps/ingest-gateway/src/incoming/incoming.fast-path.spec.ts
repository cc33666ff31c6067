import { incomingToken } from './incoming.fast-path';

describe('incomingToken', () => {
  const token = `whk_${'a'.repeat(43)}`;

  it.each([
    [`/v1/incoming/${token}`, token],
    [`/v1/incoming/${token}/`, token],
    [`/v1/incoming/${token}?a=1&b=/x`, token],
    [`/v1/incoming/${token}/?`, token],
    [`/V1/Incoming/${token}`, token], // Express matches routes in any case
    ['/v1/incoming/whk%5fabc', 'whk_abc'], // decoded as Express decodes route parameters
    ['/v1/incoming/..%2F..%2Fetc', '../../etc'],
    ['/v1/incoming/%00', '\u0000'],
    ["/v1/incoming/'%20OR%201%3D1", "' OR 1=1"],
  ])('%s → %j', (url, expected) => expect(incomingToken(url)).toBe(expected));

  it.each([
    ['another route', '/v1/integrations'],
    ['no token', '/v1/incoming/'],
    ['no token, no slash', '/v1/incoming'],
    ['a further segment', `/v1/incoming/${token}/x`],
    ['two trailing slashes', `/v1/incoming/${token}//`],
    ['a leading double slash', `//v1/incoming/${token}`],
    ['a dot segment', `/v1/./incoming/${token}`],
    ['the absolute form', `http://host/v1/incoming/${token}`],
    ['a fragment', `/v1/incoming/${token}#x`],
    ['a malformed escape', '/v1/incoming/%E0%A4%A'],
    ['no URL', undefined],
  ])('leaves %s to Express', (_what, url) => expect(incomingToken(url)).toBeUndefined());
});
