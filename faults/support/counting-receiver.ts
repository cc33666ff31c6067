import { HttpsReceiver, Reaction, ReceivedRequest } from '@posthooks/testing';

/**
 * What a receiver does with the n-th request (1-based) it gets for one `webhook-id`:
 * so "fail twice, then succeed" holds per delivery, however requests interleave.
 */
export type Behaviour = (nth: number, req: ReceivedRequest) => Reaction;

export const ok: Behaviour = () => ({ status: 200, body: 'ok' });
export const failFirst =
  (n: number, fail: Reaction = { status: 500, body: 'not yet' }): Behaviour =>
  (nth) =>
    nth <= n ? fail : { status: 200, body: 'ok' };
export const always =
  (reaction: Reaction): Behaviour =>
  () =>
    reaction;

/**
 * An HttpsReceiver (real HTTPS, the run's throwaway CA, or an untrusted certificate)
 * that counts, per `webhook-id`, every request and the requests it answered 2xx, and
 * which events (`event_id` of the body) it took.
 */
export class CountingReceiver {
  /** webhook-id → requests received. */
  readonly seen = new Map<string, number>();
  /** webhook-id → requests answered 2xx (more than 1 is a duplicate delivery). */
  readonly delivered = new Map<string, number>();
  /** event_id → webhook-id, of the events this receiver answered 2xx. */
  readonly events = new Map<string, string>();
  private rx!: HttpsReceiver;

  private constructor(
    readonly name: string,
    private readonly behaviour: Behaviour,
  ) {}

  static async start(name: string, behaviour: Behaviour = ok, tls: 'trusted' | 'untrusted' = 'trusted'): Promise<CountingReceiver> {
    const r = new CountingReceiver(name, behaviour);
    r.rx = await HttpsReceiver.start({ tls, react: (_n, req) => r.react(req) });
    return r;
  }

  private react(req: ReceivedRequest): Reaction {
    const id = String(req.headers['webhook-id'] ?? '');
    const nth = (this.seen.get(id) ?? 0) + 1;
    this.seen.set(id, nth);
    const reaction = this.behaviour(nth, req);
    if (typeof reaction === 'object' && reaction.status >= 200 && reaction.status < 300) {
      this.delivered.set(id, (this.delivered.get(id) ?? 0) + 1);
      try {
        this.events.set(String((JSON.parse(req.body) as { event_id: unknown }).event_id), id);
      } catch {
        this.events.set(`unparsable body of ${id}`, id);
      }
    }
    return reaction;
  }

  url(): string {
    return this.rx.url(`/${this.name}`);
  }

  get requests(): number {
    return this.rx.requests.length;
  }

  /** Every request received, in order. */
  get all(): ReceivedRequest[] {
    return this.rx.requests;
  }

  /** Deliveries answered 2xx, each webhook-id once. */
  get unique(): number {
    return this.delivered.size;
  }

  /** 2xx answers beyond the first for the same webhook-id. */
  get duplicates(): number {
    let n = 0;
    for (const c of this.delivered.values()) n += c - 1;
    return n;
  }

  /** Of these event ids, those this receiver never answered 2xx. */
  missing(eventIds: string[]): string[] {
    return eventIds.filter((e) => !this.events.has(e));
  }

  close(): Promise<void> {
    return this.rx.close();
  }
}

/** Totals over receivers that should each get every event. */
export function tally(receivers: CountingReceiver[], eventIds: string[]): { expected: number; unique: number; duplicates: number; lost: number; missing: string[] } {
  const missing = receivers.flatMap((r) => r.missing(eventIds).map((e) => `${r.name}:${e}`));
  return {
    expected: receivers.length * eventIds.length,
    unique: receivers.reduce((n, r) => n + r.unique, 0),
    duplicates: receivers.reduce((n, r) => n + r.duplicates, 0),
    lost: missing.length,
    missing,
  };
}
