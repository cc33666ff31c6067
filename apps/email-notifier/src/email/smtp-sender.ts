import { createTransport, Transporter } from 'nodemailer';
import type { SmtpTls } from '@posthooks/config';
import { RenderedEmail } from './email-content';

export interface OutgoingEmail extends RenderedEmail {
  to: string;
  /** Fixed when the email was recorded: every (re)send of it carries the same one. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

export type SendResult = { ok: true; response: string } | { ok: false; permanent: boolean; error: string };

/**
 * Sends one email over SMTP (SMTP_URL, TLS as decideSmtpTls says) with nodemailer, one connection per email: they
 * are few, and a connection per send makes no state survive an SMTP outage. The whole
 * send is bounded by `timeoutMs`.
 */
export class SmtpSender {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
    private readonly timeoutMs: number,
    tls: SmtpTls,
  ) {
    // `starttls`: nodemailer refuses to send (before AUTH and MAIL) when the server does
    // not upgrade the connection, instead of falling back to plain text.
    const requireTLS = tls === 'starttls';
    this.transport = createTransport({ url, requireTLS, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, dnsTimeout: timeoutMs });
  }

  async send(mail: OutgoingEmail): Promise<SendResult> {
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        date: mail.date,
        headers: { 'Auto-Submitted': 'auto-generated', ...mail.headers },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { ok: true, response: String(info.response) };
    } catch (err) {
      return { ok: false, ...classifySmtpError(err) };
    }
  }

  close(): void {
    this.transport.close();
  }
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
  message?: string;
}

/**
 * A 5xx to RCPT TO (the address) or to DATA (this message) is permanent (RFC 5321):
 * retrying the same email cannot help. Everything else is retried with backoff: no
 * connection, timeouts, any 4xx, and a 5xx to the greeting, EHLO, AUTH or MAIL FROM,
 * which is about our server or our configuration, not this email, and heals when an
 * operator fixes it.
 */
export function classifySmtpError(err: unknown): { permanent: boolean; error: string } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SmtpError;
  const code = e.responseCode;
  const permanent = code !== undefined && code >= 500 && (e.command === 'RCPT TO' || e.command === 'DATA');
  const error = e.response ? `${e.command ? `${e.command}: ` : ''}${e.response}` : `${e.code ? `${e.code} ` : ''}${e.message ?? 'unknown error'}`;
  return { permanent, error: error.slice(0, 1000) };
}

/** Wait before try `attempt + 1` after `attempt` transient failures: base·2^(attempt-1), capped, ±10 % jitter. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(raw * (0.9 + 0.2 * random()));
}
