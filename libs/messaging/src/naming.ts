import { DEADLETTER_SUBJECT_PREFIX } from '@posthooks/contracts';

/**
 * Maps the contract's logical subjects and stream names onto the server. With an empty
 * namespace (production) they are used as they are; with one (`t123`), subjects become
 * `t123.table.loaded` and streams `T123_LOADS`, so test runs never share a stream.
 */
export class NatsNaming {
  private readonly prefix: string;

  constructor(readonly namespace = '') {
    if (!/^[a-z0-9_]*$/.test(namespace)) throw new Error(`NATS namespace must match [a-z0-9_]*, got "${namespace}"`);
    this.prefix = namespace ? `${namespace}.` : '';
  }

  subject(logical: string): string {
    return this.prefix + logical;
  }

  /** The logical subject of a server subject, or undefined if it is outside the namespace. */
  logical(subject: string): string | undefined {
    return subject.startsWith(this.prefix) ? subject.slice(this.prefix.length) : undefined;
  }

  stream(name: string): string {
    return this.namespace ? `${this.namespace.toUpperCase()}_${name}` : name;
  }

  deadLetterSubject(logical: string): string {
    return this.subject(DEADLETTER_SUBJECT_PREFIX + logical);
  }
}
