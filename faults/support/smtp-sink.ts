import { freePort } from '@posthooks/testing';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

/**
 * A real SMTP server (`smtp-server`) on a fixed port that can be taken down and brought
 * back on the same port, the way an operator's relay goes away and returns. It keeps
 * every email it accepted, parsed with `mailparser`.
 */
export class SmtpSink {
  readonly received: ReceivedEmail[] = [];
  private server?: SMTPServer;

  private constructor(readonly port: number) {}

  /** A sink on a free port, down until `listen()`. */
  static async reserve(): Promise<SmtpSink> {
    return new SmtpSink(await freePort());
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      onData: (stream, _session, cb) => {
        simpleParser(stream)
          .then((parsed) => {
            this.received.push({
              to: [parsed.to ?? []].flat().map((a) => a.text).join(', '),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              messageId: parsed.messageId ?? '',
            });
            cb(null);
          })
          .catch((err: Error) => cb(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined); // a client that vanishes mid-session is not the scenario's concern
    this.server = server;
  }

  /** Down: nothing listens on the port any more. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
