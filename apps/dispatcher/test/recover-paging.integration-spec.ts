import { HttpsReceiver, waitFor } from '@posthooks/testing';
import { DataSource } from 'typeorm';
import { Dispatcher } from './dispatcher-harness';

/** SPEC §5 and §10: `recover` re-sends at most 10,000 deliveries per call and says when there are more. */
describe('recover, a page at a time', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;

  // One delivery at a time: the test is about what recover makes due, not how fast the
  // 10,001 webhooks are then sent (each recovered delivery becomes pending, then
  // succeeded, so it is never recovered twice here).
  beforeAll(async () => {
    d = await Dispatcher.start('dispatch_recover_paging', { DELIVERY_CONCURRENCY: '1' });
    rx = await HttpsReceiver.start({ react: () => ({ status: 204 }) });
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
  });

  it('recovers 10,000 deliveries, says there are more, and takes the rest on the next call', async () => {
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    const db = d.app.get(DataSource);
    // 10,001 failed deliveries, written directly: failing each through six attempts would take minutes.
    await db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, state, attempts, round_attempts, last_error)
       SELECT 'msg_' || md5($1::text || '-' || i), $1::int, $2::int, 'ev-page-' || i, 'table.loaded', '{"event_id":"ev-page-' || i || '"}', 'failed', 6, 6, 'HTTP 500'
       FROM generate_series(1, 10001) AS i`,
      [hook.hook_id, a.id],
    );
    const since = new Date(Date.now() - 60_000).toISOString();
    expect(await d.api('POST', `/v1/hooks/${hook.hook_id}/recover`, a.key, { since })).toEqual({ status: 202, body: { recovered: 10_000, more: true } });
    expect(await d.api('POST', `/v1/hooks/${hook.hook_id}/recover`, a.key, { since })).toEqual({ status: 202, body: { recovered: 1, more: false } });
    expect(await d.api('POST', `/v1/hooks/${hook.hook_id}/recover`, a.key, { since })).toEqual({ status: 202, body: { recovered: 0, more: false } });

    // Every one is in its second round, due (or already sent): a row, no message.
    const [rounds] = await db.query<{ second_round: string; due_or_sent: string }[]>(
      `SELECT count(*) FILTER (WHERE round = 2) AS second_round, count(*) FILTER (WHERE (state = 'pending' AND next_attempt_at <= now()) OR state = 'succeeded') AS due_or_sent
       FROM deliveries WHERE hook_id = $1`,
      [hook.hook_id],
    );
    expect(rounds).toEqual({ second_round: '10001', due_or_sent: '10001' });
    // And they are being sent.
    await waitFor('recovered webhooks at the receiver', () => rx.requests.length >= 10);
  }, 120_000);
});
