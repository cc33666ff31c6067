import { classifyPublishFailure } from './publish-failure';

describe('classifyPublishFailure', () => {
  it.each([
    ['Test scenario: the payload is over the server max_payload', { code: 'MAX_PAYLOAD_EXCEEDED', message: 'MAX_PAYLOAD_EXCEEDED' }, 'permanent'],
    ['Test scenario: the stream refuses the message (max_msg_size)', { code: '400', message: 'message size exceeds maximum allowed', api_error: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' } }, 'permanent'],
    ['Test scenario: NATS is disconnected', { code: 'CONNECTION_CLOSED', message: 'CONNECTION_CLOSED' }, 'transient'],
    ['Test scenario: JetStream does not answer in time', { code: 'TIMEOUT', message: 'TIMEOUT' }, 'transient'],
    ['Test scenario: no stream listens on the subject yet', { code: '503', message: '503' }, 'transient'],
    ['Test scenario: JetStream answers 503 (stream full, cluster without leader)', { code: '503', message: 'x', api_error: { code: 503, description: 'unavailable' } }, 'transient'],
    ['Test scenario: a plain error', new Error('boom'), 'transient'],
    ['Test scenario: not an error at all', 'boom', 'transient'],
    ['Test scenario: null', null, 'transient'],
  ])('%s', (_, err, kind) => {
    expect(classifyPublishFailure(err).kind).toBe(kind);
  });

  it('Test scenario: a refusal says why, without the payload', () => {
    expect(classifyPublishFailure({ api_error: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' } })).toEqual({
      kind: 'permanent',
      reason: 'refused by JetStream (400/10054: message size exceeds maximum allowed)',
    });
  });
});
