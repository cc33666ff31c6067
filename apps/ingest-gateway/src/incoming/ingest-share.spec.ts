import { classBytes, heldBytes, IngestShare, overShare, sizeClass } from './ingest-share';

describe('size classes', () => {
  it.each([1, 100, 1000, 64 * 1024, 512 * 1024, 1024 * 1024])('Test scenario: a message of %d bytes is counted as at most 25 %% more, never less', (bytes) => {
    const counted = classBytes(sizeClass(bytes));
    expect(counted).toBeGreaterThanOrEqual(bytes);
    expect(counted).toBeLessThanOrEqual(bytes * 1.25 + 1);
  });

  it('keys a message by integration and size class', () => {
    expect(IngestShare.key(42, 1000)).toBe(`42.${sizeClass(1000)}`);
  });
});

describe('heldBytes', () => {
  it('sums each integration\'s messages over its size classes, whichever replica published them', () => {
    const held = heldBytes('t1.ingest.records.', { 't1.ingest.records.7.10': 3, 't1.ingest.records.7.20': 1, 't1.ingest.records.8.10': 2, 't1.ingest.records.junk': 5 });
    expect(Object.fromEntries(held)).toEqual({ 7: 3 * classBytes(10) + classBytes(20), 8: 2 * classBytes(10) });
  });
});

describe('overShare', () => {
  it.each([
    ['Test scenario: nothing waiting: taken', 0, 1000, 0.1, false],
    ['Test scenario: under its share: taken (even if this post goes past it)', 99, 1000, 0.1, false],
    ['Test scenario: at its share: refused', 100, 1000, 0.1, true],
    ['Test scenario: past its share: refused', 500, 1000, 0.1, true],
    ['Test scenario: a share of 1 is no share: the stream\'s own limit refuses', 5000, 1000, 1, false],
    ['Test scenario: no counts yet (limit unknown): taken', 5000, 0, 0.1, false],
  ])('%s', (_, pending, max, share, expected) => expect(overShare(pending, max, share)).toBe(expected));
});
