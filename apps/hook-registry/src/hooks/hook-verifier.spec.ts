import { readVerifyReply } from './hook-verifier';

describe('readVerifyReply', () => {
  it.each<[string, string, ReturnType<typeof readVerifyReply>]>([
    ['Test scenario: a 2xx answer', '{"status_code":204,"duration_ms":42,"error":null}', { status_code: 204, duration_ms: 42, error: null }],
    ['Test scenario: no status (a refused target)', '{"status_code":null,"duration_ms":null,"error":"target address not allowed"}', { status_code: null, duration_ms: null, error: 'target address not allowed' }],
    ['Test scenario: extra fields are dropped', '{"status_code":500,"duration_ms":3,"error":"HTTP 500","body":"secret?"}', { status_code: 500, duration_ms: 3, error: 'HTTP 500' }],
    ['Test scenario: a long error is cut to 1,024 characters', JSON.stringify({ status_code: null, duration_ms: 1, error: 'e'.repeat(5000) }), { status_code: null, duration_ms: 1, error: 'e'.repeat(1024) }],
    ['Test scenario: not JSON', 'ok', undefined],
    ['Test scenario: JSON null', 'null', undefined],
    ['Test scenario: a status as a string', '{"status_code":"200","duration_ms":1,"error":null}', undefined],
    ['Test scenario: a fractional duration', '{"status_code":200,"duration_ms":1.5,"error":null}', undefined],
    ['Test scenario: fields missing', '{"status_code":200}', undefined],
    ['Test scenario: an error that is not a string', '{"status_code":null,"duration_ms":null,"error":{"m":1}}', undefined],
  ])('%s', (_, text, expected) => {
    expect(readVerifyReply(text)).toEqual(expected);
  });
});
