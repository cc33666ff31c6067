import { classifySmtpError, retryDelayMs } from './smtp-sender';

describe('classifySmtpError', () => {
  it('makes a 5xx to RCPT TO or DATA permanent, with the server\'s answer as the error', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 Mailbox unavailable' })).toEqual({ permanent: true, error: 'RCPT TO: 550 5.1.1 Mailbox unavailable' });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 Message rejected' }).permanent).toBe(true);
  });

  it('retries 4xx answers, network errors and 5xx about our server or configuration', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', response: '451 4.3.0 Try again' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'EPROTOCOL', responseCode: 421, command: 'CONN', response: '421 Service not available' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 Authentication failed' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', response: '553 sender not allowed' }).permanent).toBe(false);
    expect(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1025'), { code: 'ESOCKET' }))).toEqual({ permanent: false, error: 'ESOCKET connect ECONNREFUSED 127.0.0.1:1025' });
    expect(classifySmtpError('boom')).toEqual({ permanent: false, error: 'boom' });
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base up to the cap, within 10 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 9, 50].map((n) => retryDelayMs(n, 5000, 60_000, mid))).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    expect(retryDelayMs(1, 5000, 60_000, () => 0)).toBe(4500);
    expect(retryDelayMs(1, 5000, 60_000, () => 0.9999)).toBe(5500);
  });
});
