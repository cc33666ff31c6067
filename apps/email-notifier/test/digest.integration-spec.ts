import { ReceivedEmail, SmtpSink, testEnv } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { Notifier } from './notifier-harness';

/** A flood (one dead endpoint, many events) sends a digest after the first few emails. */
describe('digest', () => {
  const NAME = 'notifier_digest';
  const settings = { EMAIL_DIGEST_AFTER: '3', EMAIL_DIGEST_WINDOW_MS: '1500' };
  let sink: SmtpSink;
  let n: Notifier;
  let nc: NatsConnection;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    n = await Notifier.start(NAME, sink, settings);
    nc = await connect({ servers: testEnv(NAME).NATS_URL });
  });
  afterAll(async () => {
    await n?.stop();
    await nc?.close();
    await sink?.close();
  });

  const kind = (m: ReceivedEmail) => m.headers.get('x-posthooks-kind');
  const ofHook = (address: string, hookId: number) => sink.to(address).filter((m) => m.headers.get('x-posthooks-hook-id') === String(hookId));
  const digests = (address: string, hookId: number) => ofHook(address, hookId).filter((m) => kind(m) === 'digest');
  const foldedIn = (m: ReceivedEmail) => /Folded in: +(\d+)/.exec(m.text)?.[1];

  it('emails the first three events of a hook in a window, then one digest that says how many were folded in', async () => {
    const a = await n.account();
    const flooded = n.newHookId();
    const other = n.newHookId();
    const tables = Array.from({ length: 10 }, (_, i) => `table_${i}`);
    for (const table_name of tables) await n.undeliverable(a.id, { hook_id: flooded, table_name });
    await n.undeliverable(a.id, { hook_id: other, table_name: 'elsewhere' });

    const [digest] = await sink.waitFor(a.email, 5).then(() => digests(a.email, flooded));
    await n.idle();
    const single = ofHook(a.email, flooded).filter((m) => kind(m) === 'undeliverable');
    expect(single).toHaveLength(3);
    expect(ofHook(a.email, other)).toHaveLength(1); // another hook has its own window
    expect(sink.to(a.email)).toHaveLength(5);

    expect(digest.subject).toBe('Unable to Deliver Post Load Notification');
    expect(digest.text).toContain('could not deliver 7 more post-load notifications to your webhook');
    expect(digest.text).toContain('This digest folds in 7 undeliverable notifications');
    expect(digest.text).toMatch(/Folded in: +7\n/);
    expect(digest.html).toContain('<code>7</code>');
    // Each table is told once: in its own email or in the digest's list.
    const emailed = single.map((m) => /Table: +(\S+)/.exec(m.text)?.[1]);
    const listed = tables.filter((t) => digest.text.includes(`shopify / ${t} `));
    expect([...emailed, ...listed].sort()).toEqual(tables.sort());
    expect(listed).toHaveLength(7);
    expect((await n.outcomes(flooded)).sort()).toEqual([...Array(3).fill('emailed'), ...Array(7).fill('folded')].sort());
  });

  it('while the flood goes on, sends only digests; replaying the stream sends no digest twice', async () => {
    const a = await n.account();
    const hook = n.newHookId();
    for (let i = 0; i < 5; i++) await n.undeliverable(a.id, { hook_id: hook });
    await sink.waitFor(a.email, 4); // 3 emails + the digest of 2
    expect(digests(a.email, hook).map(foldedIn)).toEqual(['2']);

    // The next window follows a window that folded events: no individual emails in it.
    for (let i = 0; i < 4; i++) await n.undeliverable(a.id, { hook_id: hook });
    await sink.waitFor(a.email, 5);
    await n.idle();
    expect(digests(a.email, hook).map(foldedIn)).toEqual(['2', '4']);
    expect(new Set(digests(a.email, hook).map((d) => d.messageId)).size).toBe(2);

    await n.stop();
    await (await nc.jetstreamManager()).consumers.delete(n.naming.stream('NOTIFY'), 'email-notifier');
    n = await Notifier.start(NAME, sink, settings);
    await n.idle();
    expect(sink.to(a.email)).toHaveLength(5);
    // Nothing new is waiting either, such as a digest of replayed events due later.
    const rows = await n.emails(hook);
    expect(rows.map((r) => [r.kind, r.state, r.folded])).toEqual([
      ['undeliverable', 'sent', 0],
      ['undeliverable', 'sent', 0],
      ['undeliverable', 'sent', 0],
      ['digest', 'sent', 2],
      ['digest', 'sent', 4],
    ]);
  });
});
