import { freePort } from './nats-server';
import { waitFor } from './wait-for';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Map<string, unknown>;
}

/** An SMTP reply to make the server give: a 421 to the connection, a 550 to RCPT TO, a 451 to DATA. */
export interface SmtpReply {
  code: number;
  message: string;
}

/**
 * A real SMTP server (`smtp-server`) for tests: it parses what it accepts with
 * `mailparser`, and answers what a test tells it to, at the connection, RCPT TO or DATA.
 * `close()` takes it down; `listen()` brings it back on the same port, the way an
 * operator's relay goes away and returns.
 */
export class SmtpSink {
  readonly received: ReceivedEmail[] = [];
  /** RCPT TO commands seen, per address: a retry shows here even when it is refused. */
  readonly rcpts = new Map<string, number>();
  onConnect?: () => SmtpReply | undefined;
  onRcpt?: (address: string) => SmtpReply | undefined;
  /** Runs once the whole message has arrived: a reply refuses it; a promise holds the answer back. */
  onData?: (email: ReceivedEmail) => SmtpReply | undefined | Promise<SmtpReply | undefined>;
  /** Messages taken in full, including those then refused or held. */
  readonly dataSeen: ReceivedEmail[] = [];
  private server?: SMTPServer;

  private constructor(readonly port: number) {}

  static async start(): Promise<SmtpSink> {
    const sink = await SmtpSink.reserve();
    await sink.listen();
    return sink;
  }

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
      onConnect: (_session, cb) => cb(asError(this.onConnect?.())),
      onRcptTo: (address, _session, cb) => {
        this.rcpts.set(address.address, (this.rcpts.get(address.address) ?? 0) + 1);
        cb(asError(this.onRcpt?.(address.address)));
      },
      onData: (stream, _session, cb) => {
        simpleParser(stream)
          .then(async (parsed) => {
            const email: ReceivedEmail = {
              from: parsed.from?.text ?? '',
              to: [parsed.to ?? []].flat().map((a) => a.text).join(', '),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              headers: parsed.headers,
            };
            this.dataSeen.push(email);
            const reply = await this.onData?.(email);
            if (!reply) this.received.push(email);
            cb(asError(reply));
          })
          .catch((err: Error) => cb(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined); // a client that vanishes mid-session is not the test's concern
    this.server = server;
  }

  /** Down: nothing listens on the port any more. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ReceivedEmail[] {
    return this.received.filter((e) => e.to === address);
  }

  async waitFor(address: string, n: number, timeoutMs = 10_000): Promise<ReceivedEmail[]> {
    return waitFor(`${n} email(s) to ${address} (have ${this.to(address).length})`, () => this.to(address).length >= n && this.to(address), { timeoutMs });
  }
}

function asError(reply: SmtpReply | undefined): Error | null {
  if (!reply) return null;
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}
