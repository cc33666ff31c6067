import { MAX_JSON_DEPTH, refuseJsonBody } from './json-body';

describe('refuseJsonBody', () => {
  const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });

  it('takes ordinary bodies', () => {
    expect(refuseJsonBody({ name: "' OR 1=1 --", tags: ['a', 'é', '😀'], n: 1, ok: true, none: null })).toBeUndefined();
    expect(refuseJsonBody(nest(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('refuses a body nested deeper than the limit, at any depth, without recursion', () => {
    expect(refuseJsonBody(nest(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper/);
    expect(refuseJsonBody(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toMatch(/nested deeper/);
  });

  it('can leave strings to a route that checks them itself, but not depth or keys', () => {
    expect(refuseJsonBody({ url: 'a\u0000b' }, { checkStrings: false })).toBeUndefined();
    expect(refuseJsonBody(nest(MAX_JSON_DEPTH + 1), { checkStrings: false })).toMatch(/nested deeper/);
    expect(refuseJsonBody({ constructor: 1 }, { checkStrings: false })).toMatch(/constructor/);
  });

  it.each([
    ['a NUL in a value', { name: 'a\u0000b' }, /NUL/],
    ['a NUL in a key', { ['a\u0000']: 1 }, /NUL/],
    ['a NUL in an array', { tables: ['x', '\u0000'] }, /NUL/],
    ['a lone surrogate', { name: 'a\ud800b' }, /surrogate/],
    ['a __proto__ key', JSON.parse('{"name":"x","__proto__":{"admin":true}}'), /__proto__/],
    ['a constructor key', { constructor: { prototype: { admin: true } } }, /constructor/],
  ])('refuses %s', (_what, body, reason) => {
    expect(refuseJsonBody(body)).toMatch(reason);
  });
});
