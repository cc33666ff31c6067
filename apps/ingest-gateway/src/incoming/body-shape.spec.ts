import { bodyShape, heapEstimate } from './body-shape';

const shape = (json: string) => bodyShape(Buffer.from(json));

describe('bodyShape', () => {
  it.each([
    ['an object', '{"id":1}', { records: 1, containers: 1, scalars: 2 }],
    ['an empty array', '[]', { records: 0, containers: 1, scalars: 0 }],
    ['an empty array with spaces', ' [ \n ] ', { records: 0, containers: 1, scalars: 0 }],
    ['three objects', '[{},{"a":[1,2]},{}]', { records: 3, containers: 5, scalars: 3 }],
    ['commas and brackets inside strings', '[{"a,]":"[,{\\"}"},{"b":"\\\\"}]', { records: 2, containers: 3, scalars: 4 }],
    ['nested arrays: their commas are not records', '[{"a":[[],[],[]]}]', { records: 1, containers: 6, scalars: 1 }],
    ['literals and negative numbers', '[{"a":true,"b":null,"c":-1.5e3,"d":false}]', { records: 1, containers: 2, scalars: 8 }],
    ['scalars at the top are one record (the parser refuses them)', '42', { records: 1, containers: 0, scalars: 1 }],
  ])('%s', (_what, json, expected) => expect(shape(json)).toEqual(expected));

  it('counts 1.4 million empty objects without building them', () => {
    const body = Buffer.from(`[${Array(1_400_000).fill('{}').join(',')}]`);
    expect(bodyShape(body)).toEqual({ records: 1_400_000, containers: 1_400_001, scalars: 0 });
  });
});

describe('heapEstimate', () => {
  it('charges a body of many small values far more than its bytes', () => {
    const arrays = Buffer.from(`[{"a":[${Array(1_000_000).fill('[]').join(',')}]}]`);
    const text = Buffer.from(`[{"a":"${'x'.repeat(arrays.length - 10)}"}]`);
    expect(heapEstimate(arrays.length, bodyShape(arrays))).toBeGreaterThan(15 * arrays.length);
    expect(heapEstimate(text.length, bodyShape(text))).toBeLessThan(3 * text.length);
  });
});
