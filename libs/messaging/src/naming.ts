import { DEADLETTER_SUBJECT_PREFIX, KEYED_SUBJECTS } from '@posthooks/contracts';

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

  /**
   * The logical subject of a server subject, or undefined if it is outside the namespace.
   * A keyed subject (`ingest.records.42`) is its contract subject (`ingest.records`).
   */
  logical(subject: string): string | undefined {
    if (!subject.startsWith(this.prefix)) return undefined;
    const logical = subject.slice(this.prefix.length);
    return KEYED_SUBJECTS.find((keyed) => logical.startsWith(keyed) && logical[keyed.length] === '.') ?? logical;
  }

  stream(name: string): string {
    return this.namespace ? `${this.namespace.toUpperCase()}_${name}` : name;
  }

  deadLetterSubject(logical: string): string {
    return this.subject(DEADLETTER_SUBJECT_PREFIX + logical);
  }
}
