import { DestinationNotAllowedError } from '@posthooks/webhooks';
import { isDestinationFault } from './destination-pools';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDestinationFault', () => {
  it.each([
    ['password authentication failed (28P01)', pgError('28P01'), true],
    ['role may not log in (28000)', pgError('28000'), true],
    ['no such database (3D000)', pgError('3D000'), true],
    ['CONNECT or CREATE revoked (42501)', pgError('42501'), true],
    ['read-only transaction (25006)', pgError('25006'), true],
    ['refused', pgError('ECONNREFUSED'), true],
    ['cut mid-write', new Error('Connection terminated unexpectedly'), true],
    ['too many connections (53300)', pgError('53300'), true],
    ['silent after connecting (query_timeout)', new Error('Query read timeout'), true],
    ['an address it may not use', new DestinationNotAllowedError('127.0.0.1: loopback address'), true],
    ['a value that does not fit (22P02): the batch', pgError('22P02'), false],
    ['a bug', new TypeError('undefined is not a function'), false],
  ])('Test scenario: %s → %s', (_, err, expected) => {
    expect(isDestinationFault(err)).toBe(expected);
  });
});
