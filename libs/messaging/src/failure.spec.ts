import { classifyFailure, decideFailure, FailureKind, RetryPolicy } from './failure';
import { StreamFull } from './publisher';

/** An Error with the fields drivers add (code, cause, driverError...). */
const failure = (message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), fields);

describe('classifyFailure', () => {
  it.each<[string, unknown, FailureKind]>([
    // Postgres, as pg and TypeORM report it
    ['Postgres refuses connections (pg: connect ECONNREFUSED)', failure('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', errno: -111 }), 'outage'],
    ['Postgres is stopped with -m fast (57P01 admin_shutdown)', failure('terminating connection due to administrator command', { code: '57P01', severity: 'FATAL' }), 'outage'],
    ['Postgres is starting up (57P03)', failure('the database system is starting up', { code: '57P03' }), 'outage'],
    ['Postgres connection failure (08006)', failure('connection failure', { code: '08006' }), 'outage'],
    ['Postgres has too many connections (53300)', failure('sorry, too many clients already', { code: '53300' }), 'outage'],
    ['Postgres disk full (53100)', failure('could not extend file', { code: '53100' }), 'outage'],
    ['pg: the socket went away mid-query', failure('Connection terminated unexpectedly'), 'outage'],
    ['pg-pool: no connection within connectionTimeoutMillis', failure('timeout exceeded when trying to connect'), 'outage'],
    ['pg-pool: connect timed out, cause kept', failure('Connection terminated due to connection timeout', { cause: failure('Connection terminated unexpectedly') }), 'outage'],
    ['TypeORM QueryFailedError wrapping a pg outage', failure('Query failed', { driverError: failure('terminating connection', { code: '57P01' }) }), 'outage'],
    ['Node: several addresses refused (AggregateError)', Object.assign(new AggregateError([failure('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' })], ''), {}), 'outage'],
    ['a wrapper that quotes the network error but dropped it', failure('loading 20 records failed: connect ECONNREFUSED 127.0.0.1:5432'), 'outage'],
    ['DNS of the database host not answering (EAI_AGAIN)', failure('getaddrinfo EAI_AGAIN db', { code: 'EAI_AGAIN' }), 'outage'],
    // NATS
    ['NATS request timed out', failure('TIMEOUT', { code: 'TIMEOUT' }), 'outage'],
    ['NATS connection closed', failure('CONNECTION_CLOSED', { code: 'CONNECTION_CLOSED' }), 'outage'],
    ['NATS disconnected', failure('DISCONNECT', { code: 'DISCONNECT' }), 'outage'],
    ['JetStream not answering (503 no responders)', failure('503', { code: '503' }), 'outage'],
    ['a full stream with discard new', failure('maximum bytes exceeded', { code: '400', api_error: { code: 400, err_code: 10054, description: 'maximum bytes exceeded' } }), 'outage'],
    ['JetStream out of storage', failure('insufficient resources', { code: '503' }), 'outage'],
    // Ours: a publish JetStream refused (publisher.ts), whatever the server said
    ['StreamFull from a sealed stream (being upgraded)', new StreamFull('invalid operation on sealed stream'), 'outage'],
    ['StreamFull from a full stream', new StreamFull('maximum messages exceeded'), 'outage'],
    ['StreamFull wrapped by a caller that kept it as the cause', failure('flush of 20 records failed', { cause: new StreamFull('stream full') }), 'outage'],
    // Real errors: they may be the message's fault
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')"), 'error'],
    ['a unique violation (23505)', failure('duplicate key value violates unique constraint', { code: '23505' }), 'error'],
    ['a value Postgres cannot hold (22P02)', failure('invalid input syntax for type numeric', { code: '22P02' }), 'error'],
    ['a statement timeout (57014) is the query, not the server', failure('canceling statement due to statement timeout', { code: '57014' }), 'error'],
    ['a deadlock (40P01) is not an outage', failure('deadlock detected', { code: '40P01' }), 'error'],
    ['a payload over NATS max_payload', failure('MAX_PAYLOAD_EXCEEDED', { code: 'MAX_PAYLOAD_EXCEEDED' }), 'error'],
    ["Nest's opaque RPC error (no filter passed the original through)", { status: 'error', message: 'Internal server error' }, 'error'],
    ['a thrown string', 'boom', 'error'],
    ['undefined', undefined, 'error'],
  ])('Test scenario: %s', (_, thrown, kind) => {
    expect(classifyFailure(thrown)).toBe(kind);
  });

  it('Test scenario: an error whose cause is itself ends the walk', () => {
    const loop = failure('loop');
    (loop as Error & { cause: unknown }).cause = loop;
    expect(classifyFailure(loop)).toBe('error');
  });
});

describe('decideFailure', () => {
  const policy: RetryPolicy = { deadLetterAfterMs: 20 * 60_000, retryBaseMs: 1000, retryMaxMs: 60_000 };

  it.each<[string, FailureKind, number, number, string]>([
    ['first failure of a real error: retry after the base delay', 'error', 1, 0, 'retry 1000'],
    ['third delivery: the delay doubled twice', 'error', 3, 5000, 'retry 4000'],
    ['tenth delivery: the delay is capped', 'error', 10, 600_000, 'retry 60000'],
    ['a real error failing for just under the horizon: still retried', 'error', 30, 20 * 60_000 - 1, 'retry 60000'],
    ['a real error failing for the horizon: dead-lettered', 'error', 31, 20 * 60_000, 'deadletter'],
    ['an outage never dead-letters, however long', 'outage', 5000, 24 * 3600_000, 'retry 60000'],
    ['an outage is retried with the same capped backoff', 'outage', 2, 0, 'retry 2000'],
    ['a huge delivery count does not overflow the backoff', 'outage', 1e9, 0, 'retry 60000'],
  ])('Test scenario: %s', (_, kind, deliveries, failingForMs, expected) => {
    const decision = decideFailure(kind, deliveries, failingForMs, policy, 'why');
    expect(decision.action === 'retry' ? `retry ${decision.delayMs}` : decision.action).toBe(expected);
  });

  it('Test scenario: the dead-letter reason says for how long and why', () => {
    expect(decideFailure('error', 42, 1_200_000, policy, 'relation "x" does not exist')).toEqual({ action: 'deadletter', reason: 'failed for 1200 s over 42 deliveries: relation "x" does not exist' });
  });
});
