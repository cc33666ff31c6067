import { RecordBatcher } from './record-batcher';

type Sent = { context: string; records: Record<string, unknown>[] };
const turn = () => new Promise((r) => setImmediate(r));

function batcher(maxBytes = 100, fail?: (s: Sent) => Error | undefined) {
  const sent: Sent[] = [];
  const b = new RecordBatcher<number, string>(maxBytes, async (context, records) => {
    const s = { context, records };
    sent.push(s);
    const err = fail?.(s);
    if (err) throw err;
  });
  return { b, sent };
}

describe('RecordBatcher', () => {
  it('sends the posts of one turn to one key as one message, and resolves each when it is sent', async () => {
    const { b, sent } = batcher();
    const done = [b.add(1, 'first', [{ id: 1 }], 10), b.add(1, 'second', [{ id: 2 }, { id: 3 }], 20)];
    expect(sent).toEqual([]); // not before the next turn
    await Promise.all(done);
    expect(sent).toEqual([{ context: 'first', records: [{ id: 1 }, { id: 2 }, { id: 3 }] }]);
  });

  it('keeps keys apart', async () => {
    const { b, sent } = batcher();
    await Promise.all([b.add(1, 'a', [{ id: 1 }], 10), b.add(2, 'b', [{ id: 2 }], 10), b.add(1, 'a', [{ id: 3 }], 10)]);
    expect(sent).toEqual([
      { context: 'a', records: [{ id: 1 }, { id: 3 }] },
      { context: 'b', records: [{ id: 2 }] },
    ]);
  });

  it('starts a new message when a post would take one past maxBytes', async () => {
    const { b, sent } = batcher(100);
    await Promise.all([b.add(1, 'a', [{ id: 1 }], 60), b.add(1, 'a', [{ id: 2 }], 40), b.add(1, 'a', [{ id: 3 }], 1), b.add(1, 'a', [{ id: 4 }], 500)]);
    expect(sent.map((s) => s.records.map((r) => r.id))).toEqual([[1, 2], [3], [4]]);
  });

  it('sends later turns as later messages: an idle key waits one turn at most', async () => {
    const { b, sent } = batcher();
    await b.add(1, 'a', [{ id: 1 }], 10);
    await turn();
    await b.add(1, 'a', [{ id: 2 }], 10);
    expect(sent.map((s) => s.records)).toEqual([[{ id: 1 }], [{ id: 2 }]]);
  });

  it('rejects every post of a message that failed, and only those', async () => {
    const { b } = batcher(100, (s) => (s.context === 'bad' ? new Error('no ack') : undefined));
    const results = await Promise.allSettled([b.add(1, 'bad', [{ id: 1 }], 10), b.add(1, 'bad', [{ id: 2 }], 10), b.add(2, 'good', [{ id: 3 }], 10)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('rejects the posts when sending throws at once', async () => {
    const b = new RecordBatcher<number, string>(100, () => {
      throw new Error('closed');
    });
    await expect(b.add(1, 'a', [{ id: 1 }], 10)).rejects.toThrow('closed');
  });
});
