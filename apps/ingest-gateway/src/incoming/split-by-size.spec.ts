import { splitBySize } from './ingest.service';

describe('splitBySize', () => {
  const record = (id: number, bytes: number) => ({ id, pad: 'x'.repeat(bytes) });

  it('keeps records together while their JSON fits a part, in order', () => {
    const parts = splitBySize([record(1, 10), record(2, 10), record(3, 60)], 100);
    expect(parts.map((p) => (Array.isArray(p) ? p.map((r) => r.id) : 'large'))).toEqual([[1, 2], [3]]);
  });

  it('makes a record larger than a part a part of its own, by its JSON (travels by reference)', () => {
    const big = record(2, 500);
    const parts = splitBySize([record(1, 10), big, record(3, 10)], 100);
    expect(parts).toEqual([{ large: JSON.stringify(big) }, [record(1, 10), record(3, 10)]]);
  });

  it('makes nothing of nothing', () => {
    expect(splitBySize([], 100)).toEqual([]);
  });
});
