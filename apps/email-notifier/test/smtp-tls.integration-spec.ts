import { SmtpSink } from '@posthooks/testing';
import { OutgoingEmail, SmtpSender } from '../src/email/smtp-sender';

/**
 * Issue 15: SMTP requires TLS for a server that is not local. The sink offers no
 * STARTTLS (a plain-text relay): with `starttls` the sender must refuse to hand it the
 * email; with `optional` (a local sink, or SMTP_ALLOW_PLAINTEXT) it sends. Which mode a
 * URL gets is decideSmtpTls's table (libs/config smtp-tls.spec.ts).
 */
describe('SmtpSender TLS modes against a server without STARTTLS', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink?.close();
  });

  const mail = (to: string): OutgoingEmail => ({ to, subject: 'tls test', text: 'x', html: '<p>x</p>', messageId: `<${to}>`, date: new Date(), headers: {} });

  it('Test scenario: starttls required, the server cannot upgrade: nothing is sent, the failure is retried', async () => {
    const sender = new SmtpSender(sink.url, 'posthooks <no-reply@posthooks.local>', 5000, 'starttls');
    const result = await sender.send(mail('required@tls.test'));
    sender.close();
    expect(result).toMatchObject({ ok: false, permanent: false, error: expect.stringMatching(/STARTTLS/i) });
    expect(sink.rcpts.has('required@tls.test')).toBe(false);
  });

  it('Test scenario: optional TLS against the same server: the email is sent', async () => {
    const sender = new SmtpSender(sink.url, 'posthooks <no-reply@posthooks.local>', 5000, 'optional');
    const result = await sender.send(mail('optional@tls.test'));
    sender.close();
    expect(result).toMatchObject({ ok: true });
    expect((await sink.waitFor('optional@tls.test', 1)).length).toBe(1);
  });
});
