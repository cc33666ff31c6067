/**
 * How a dispatcher replica shares its attempts between accounts and endpoints, without
 * I/O. It counts what this replica holds (claimed deliveries until their outcome is
 * recorded; for their host, only until their send ends) and says what the next claim
 * may take: no more than the free slots of DELIVERY_CONCURRENCY, no more than an
 * account's share of them, nothing for a hook whose host or account is at its limit.
 */
export interface ShareLimits {
  /** DELIVERY_CONCURRENCY: deliveries held at once. */
  concurrency: number;
  /** DELIVERY_CONCURRENCY_PER_HOST: sent at once to one endpoint host (twice as many may be held). */
  perHost: number;
  /** The most one account may hold: DELIVERY_ACCOUNT_SHARE of the concurrency, at least 1. */
  perAccount: number;
}

export function shareLimits(concurrency: number, perHost: number, accountShare: number): ShareLimits {
  return { concurrency, perHost, perAccount: Math.max(1, Math.floor(concurrency * accountShare)) };
}

/** One claimed delivery as the share counts it. */
export interface Held {
  account: number;
  hook: number;
  host: string;
}

/** A claimed delivery as counted: its host's part ends with its send, the rest once its outcome is recorded. */
export interface Holding {
  /** The send is over: the host may take another (idempotent). */
  leaveHost(): void;
  /** The outcome is recorded (or the claim given back): also leaves the host. Once. */
  release(): void;
}

/** What the next claim may take. */
export interface ClaimPlan {
  /** Deliveries at most. */
  limit: number;
  /** Of one hook at most: twice its host's limit (what finds no slot within a second is given back). */
  perHook: number;
  /** The room of each account this replica holds deliveries of... */
  accounts: number[];
  rooms: number[];
  /** ...and of any other account. */
  accountRoom: number;
  /** Hooks not to claim for: their host or their account is at its limit here. */
  skipHooks: number[];
}

export class FairShare {
  private total = 0;
  private readonly byAccount = new Map<number, number>();
  private readonly byHost = new Map<string, number>();
  /** For each host, its hooks held now and how many of each: the hooks a full host skips. */
  private readonly hooksOfHost = new Map<string, Map<number, number>>();
  /** For each account, its hooks held now: the hooks a full account skips. */
  private readonly hooksOfAccount = new Map<number, Map<number, number>>();

  constructor(readonly limits: ShareLimits) {}

  get held(): number {
    return this.total;
  }

  /** Counts a claimed delivery; the returned holding gives back its host's part, then the rest. */
  hold(h: Held): Holding {
    this.total++;
    bump(this.byAccount, h.account, 1);
    bump(this.byHost, h.host, 1);
    bumpIn(this.hooksOfHost, h.host, h.hook, 1);
    bumpIn(this.hooksOfAccount, h.account, h.hook, 1);
    let onHost = true;
    const leaveHost = () => {
      if (!onHost) return;
      onHost = false;
      bump(this.byHost, h.host, -1);
      bumpIn(this.hooksOfHost, h.host, h.hook, -1);
    };
    return {
      leaveHost,
      release: () => {
        leaveHost();
        this.total--;
        bump(this.byAccount, h.account, -1);
        bumpIn(this.hooksOfAccount, h.account, h.hook, -1);
      },
    };
  }

  /** What a claim may take now; undefined when this replica has no free slot. */
  plan(): ClaimPlan | undefined {
    const { concurrency, perHost, perAccount } = this.limits;
    // A host holds at most twice its limit: its limit sending, and as many claimed and
    // waiting for a slot, so that a slot freed by a send is taken at once instead of
    // after the next claim's round trip (measured: one claim per freed slot halved
    // bench/dispatch's one-hook rate).
    const perHostHeld = 2 * perHost;
    const limit = concurrency - this.total;
    if (limit <= 0) return undefined;
    const skip = new Set<number>();
    for (const [host, n] of this.byHost) if (n >= perHostHeld) for (const hook of this.hooksOfHost.get(host)?.keys() ?? []) skip.add(hook);
    const accounts: number[] = [];
    const rooms: number[] = [];
    for (const [account, n] of this.byAccount) {
      const room = Math.max(0, perAccount - n);
      accounts.push(account);
      rooms.push(room);
      if (room === 0) for (const hook of this.hooksOfAccount.get(account)?.keys() ?? []) skip.add(hook);
    }
    return { limit, perHook: Math.min(perHostHeld, perAccount, limit), accounts, rooms, accountRoom: Math.min(perAccount, limit), skipHooks: [...skip] };
  }
}

function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

function bumpIn<K, J>(nested: Map<K, Map<J, number>>, key: K, inner: J, by: number): void {
  let counts = nested.get(key);
  if (!counts) nested.set(key, (counts = new Map()));
  bump(counts, inner, by);
  if (counts.size === 0) nested.delete(key);
}
