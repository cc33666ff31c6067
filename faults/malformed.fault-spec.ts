import { DeadLetterHeaders } from '@posthooks/contracts';
import { rawNatsPublish, streamMessages, streamName } from '@posthooks/testing';
import { ok, tally } from './support/counting-receiver';
import { streamCount } from './support/events';
import { report } from './support/report';
import { Scenario, since, waitOrExplain } from './support/scenario';

/** Bodies an operator's `nats pub` could send that can never be a load event (SPEC §4). */
function malformed(i: number, clientId: number): string {
  const bad = [
    'not json at all',
    '',
    '{"client_id":',
    'null',
    '[]',
    '"a string"',
    '42',
    JSON.stringify({ integration_name: 'faults', table_name: 'orders' }), // no client_id
    JSON.stringify({ client_id: clientId, table_name: 'orders' }), // no integration_name
    JSON.stringify({ client_id: clientId, integration_name: 'faults' }), // no table_name
    JSON.stringify({ client_id: String(clientId), integration_name: 'faults', table_name: 'orders' }),
    JSON.stringify({ client_id: clientId, integration_name: 7, table_name: 'orders' }),
    JSON.stringify({ client_id: clientId, integration_name: 'faults', table_name: ['orders'] }),
    `{"client_id":${clientId},"integration_name":"faults","table_name":"orders"`, // cut off
  ];
  return bad[i % bad.length];
}

/**
 * 1,000 malformed events published with raw NATS PUBs (the bytes of `nats pub`) between
 * good ones: every good one is delivered, every bad one ends in DEADLETTER, and the
 * LOADS consumer never stalls.
 */
describe('fault: malformed events between good ones', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('good events are delivered, the 1,000 bad ones dead-lettered, the consumer never stuck', async () => {
    const GOOD = 200;
    const BAD = 1000;
    const stack = await s.startStack('fault_malformed', { common: { DELIVERY_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms', DELIVERY_TIMEOUT_MS: '2000' } });
    await s.receiver('r0', ok);
    await s.receiver('r1', ok);
    const acc = await stack.account();
    for (const r of s.receivers) await stack.hook(acc.key, acc.destinationId, r.url());
    await stack.registryApplied('dispatcher');

    // Five bad ones before each good one, on both subjects; the last good one comes after all of them.
    const ids: string[] = [];
    let bad = 0;
    for (let g = 0; g < GOOD; g++) {
      for (let k = 0; k < BAD / GOOD; k++, bad++) {
        await rawNatsPublish(s.nats.url, `${s.ns}.${bad % 2 ? 'table.rejected' : 'table.loaded'}`, malformed(bad, acc.id));
      }
      const eventId = `good-${g}`;
      ids.push(eventId);
      await rawNatsPublish(s.nats.url, `${s.ns}.table.loaded`, JSON.stringify({ client_id: acc.id, integration_name: 'faults', table_name: `t${g}`, event_id: eventId }));
    }

    const explain = async () => `deadletter ${await streamCount(s.nc, s.ns, 'DEADLETTER').catch(() => -1)}/${BAD}\n${await s.explain(ids)}`;
    let failure: unknown;
    try {
      await waitOrExplain('every good event at both receivers', () => tally(s.receivers, ids).lost === 0, 60_000, explain);
      await waitOrExplain('every bad event in DEADLETTER', async () => (await streamCount(s.nc, s.ns, 'DEADLETTER')) >= BAD, 60_000, explain);
      await s.dispatcherIdle(30_000);
    } catch (err) {
      failure = err;
    }

    const t = tally(s.receivers, ids);
    const loads = await streamCount(s.nc, s.ns, 'LOADS');
    const parked = await streamMessages(await s.nc.jetstreamManager(), s.ns, 'DEADLETTER');
    const fromLoads = parked.filter((m) => m.header.get(DeadLetterHeaders.OriginalStream) === streamName(s.ns, 'LOADS'));
    const withReason = fromLoads.filter((m) => m.header.get(DeadLetterHeaders.Reason) !== '');
    const originalSeqs = new Set(fromLoads.map((m) => m.header.get(DeadLetterHeaders.OriginalSequence)));
    const consumer = await (await s.nc.jetstreamManager()).consumers.info(streamName(s.ns, 'LOADS'), 'dispatcher');
    report({
      name: '1,000 malformed events (raw NATS PUBs) between 200 good ones',
      events: GOOD,
      expected: t.expected,
      delivered: t.unique,
      duplicates: t.duplicates,
      lost: t.lost + (BAD - originalSeqs.size),
      notes: `LOADS stored ${loads}; DEADLETTER ${parked.length} (${originalSeqs.size} distinct LOADS messages, ${withReason.length} with a reason); LOADS consumer pending ${consumer.num_pending}, unacked ${consumer.num_ack_pending}; lost counts bad events not dead-lettered too`,
      seconds: since(s.t0),
    });
    if (failure) throw failure;

    expect(loads).toBe(GOOD + BAD);
    expect(t.missing).toEqual([]);
    expect(t.unique).toBe(2 * GOOD);
    expect(parked).toHaveLength(BAD);
    expect(originalSeqs.size).toBe(BAD);
    expect(withReason).toHaveLength(BAD);
    expect(consumer.num_pending + consumer.num_ack_pending).toBe(0);
  });
});
