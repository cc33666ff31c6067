import { ErrorCode, NatsError } from 'nats';
import { isJetStreamForming, whileJetStreamForms } from './jetstream-wait';

function apiError(code: number, err_code: number, description: string): NatsError {
  const err = new NatsError(description, String(code));
  err.api_error = { code, err_code, description };
  return err;
}

/** A clock that only moves when the code under test sleeps. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
}

describe('isJetStreamForming', () => {
  it('takes timeouts, "temporarily unavailable" and "no suitable peers" for a cluster still forming', () => {
    expect(isJetStreamForming(NatsError.errorForCode(ErrorCode.Timeout))).toBe(true);
    expect(isJetStreamForming(apiError(503, 10008, 'JetStream system temporarily unavailable'))).toBe(true);
    expect(isJetStreamForming(apiError(500, 10005, 'no suitable peers for placement'))).toBe(true);
    expect(isJetStreamForming(new Error('insufficient resources: no suitable peers for placement'))).toBe(true);
  });

  it('does not wait out refusals: no JetStream at all, permissions, bad config, anything else', () => {
    expect(isJetStreamForming(NatsError.errorForCode(ErrorCode.NoResponders))).toBe(false);
    expect(isJetStreamForming(NatsError.errorForCode(ErrorCode.PermissionsViolation))).toBe(false);
    expect(isJetStreamForming(apiError(400, 10052, 'replicas > 1 not supported in non-clustered mode'))).toBe(false);
    expect(isJetStreamForming(new Error('connection refused'))).toBe(false);
    expect(isJetStreamForming('TIMEOUT')).toBe(false);
  });
});

describe('whileJetStreamForms', () => {
  it('retries with a doubling, capped backoff until the step succeeds', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await whileJetStreamForms(
      'test',
      async () => {
        if (++calls < 6) throw NatsError.errorForCode(ErrorCode.Timeout);
        return 'done';
      },
      { ...clock, baseDelayMs: 500, maxDelayMs: 3000 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(6);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 3000, 3000]);
  });

  it('throws at once on an error that waiting would not change', async () => {
    const clock = fakeClock();
    let calls = 0;
    const step = async () => {
      calls++;
      throw apiError(400, 10052, 'replicas > 1 not supported in non-clustered mode');
    };
    await expect(whileJetStreamForms('test', step, clock)).rejects.toThrow('replicas > 1 not supported');
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after the limit, naming what it waited for and the last error', async () => {
    const clock = fakeClock();
    let calls = 0;
    const step = async () => {
      calls++;
      throw apiError(503, 10008, 'JetStream system temporarily unavailable');
    };
    await expect(whileJetStreamForms('provisioning streams', step, { ...clock, limitMs: 60_000, maxDelayMs: 10_000 })).rejects.toThrow(
      /^provisioning streams: JetStream did not become available within 60 s \(JetStream system temporarily unavailable\)$/,
    );
    // Slept exactly up to the limit, never past it.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
    expect(calls).toBe(clock.sleeps.length + 1);
  });
});
