import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HookVerifyReply, HookVerifyRequest, parseEvent, Subjects } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming, Semaphore } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { WEBHOOK_SENDER } from '../delivery/delivery-worker';
import { AttemptResult, notSent, WebhookSender } from '../delivery/webhook-sender';
import { webhookId } from '../fanout/webhook-body';

/** The queue group of `hook.verify`: one replica answers each request. */
const QUEUE = 'dispatcher';
/**
 * Pings a replica sends at once for verify requests. Each is an account's API call; a
 * burst of them beyond this waits a little, then is answered "busy" rather than opening
 * any number of connections at once.
 */
const MAX_PINGS = 16;
const SLOT_WAIT_MS = 5000;

/**
 * Answers `hook.verify` (a core NATS request from the registry, SPEC §9 `"verify": true`):
 * sends one `ping` to the hook the request carries, now, with the hook's URL, secrets and
 * custom headers as the request has them (the view may not have the change yet), through
 * the same sender as every delivery (target guard, time limit, no redirect), and answers
 * with what the receiver said. Not retried and never reported as undeliverable: the
 * caller is waiting for this one answer. The ping is in the delivery log as a `ping`
 * delivery with its single attempt. A request that is not valid gets an error answer;
 * nothing a request holds can stop the subscription.
 */
@Injectable()
export class HookVerifyResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('HookVerify');
  private subscription?: Subscription;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots = new Semaphore(MAX_PINGS);

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    private readonly view: RegistryView,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    private readonly db: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nc.subscribe(this.naming.subject(Subjects.HookVerify), {
      queue: QUEUE,
      callback: (err, msg) => {
        if (err) return this.log.warn(`hook.verify subscription: ${err.message}`);
        const answering = this.answer(msg).finally(() => this.inFlight.delete(answering));
        this.inFlight.add(answering);
      },
    });
  }

  /** No new request is taken; the pings under way are answered and logged before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await Promise.allSettled(this.inFlight);
  }

  /** Never rejects: whatever happens, the caller gets an answer (if it asked for one). */
  private async answer(msg: Msg): Promise<void> {
    let reply: HookVerifyReply;
    try {
      const parsed = parseEvent(Subjects.HookVerify, msg.data);
      if (!parsed.ok) reply = { status_code: null, duration_ms: null, error: `invalid hook.verify request: ${parsed.reason}` };
      else if (!(await this.slots.acquireWithin(SLOT_WAIT_MS))) reply = { status_code: null, duration_ms: null, error: 'the dispatcher is busy with other verify requests; try again' };
      else {
        try {
          reply = await this.verify(parsed.event);
        } finally {
          this.slots.release();
        }
      }
    } catch (err) {
      this.log.error(`hook.verify failed: ${(err as Error).message}`);
      reply = { status_code: null, duration_ms: null, error: 'the dispatcher could not send the ping' };
    }
    try {
      msg.respond(JSON.stringify(reply));
    } catch (err) {
      this.log.warn(`hook.verify answer not sent: ${(err as Error).message}`);
    }
  }

  /** Sends the ping, logs it, and says what came of it. */
  async verify(request: HookVerifyRequest): Promise<HookVerifyReply> {
    const hook = request.hook;
    if (hook.deleted) return { status_code: null, duration_ms: null, error: 'hook deleted' };
    const id = webhookId(request.event_id, hook.hook_id);
    const body = JSON.stringify({ event_type: 'ping', event_id: request.event_id, client_id: hook.account_id, hook_id: hook.hook_id, sent_at: request.requested_at });
    const result = await this.send(request, id, body);
    this.log.log(`verify ping ${id} of hook ${hook.hook_id}: ${result.ok ? `delivered (${result.statusCode})` : `failed (${result.error})`}`);
    await this.record(request, id, body, result).catch((err: Error) => this.log.warn(`verify ping ${id} of hook ${hook.hook_id} was sent but not logged: ${err.message}`));
    return { status_code: result.statusCode, duration_ms: result.durationMs, error: result.error };
  }

  private async send(request: HookVerifyRequest, id: string, body: string): Promise<AttemptResult> {
    let secrets: string[];
    try {
      secrets = this.view.signingSecretsOf(request.hook);
    } catch (err) {
      return notSent(`signing secret cannot be opened: ${(err as Error).message}`);
    }
    const headers = this.view.customHeadersOf(request.hook);
    if (!headers.ok) return notSent(headers.error);
    return this.sender.send({ url: request.hook.url, webhookId: id, body, secrets, headers: headers.headers });
  }

  /**
   * The ping as a delivery that ended with its one attempt: `succeeded` or `failed`, no
   * next attempt, no report owed, so neither the scheduler nor the report sweep takes it.
   * A repeated request (same event_id) finds it logged and adds nothing.
   */
  private async record(request: HookVerifyRequest, id: string, body: string, result: AttemptResult): Promise<void> {
    const state = result.ok ? 'succeeded' : 'failed';
    await this.db.query(
      `WITH delivery AS (
         INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, state, round_attempts, attempts, next_attempt_at, last_error)
         VALUES ($1, $2, $3, $4, 'ping', $5, $6, 1, 1, NULL, $7)
         ON CONFLICT (webhook_id) DO NOTHING
         RETURNING webhook_id
       )
       INSERT INTO attempts (webhook_id, hook_id, attempt, status, status_code, error, duration_ms, response_body)
       SELECT webhook_id, $2, 1, $6, $8, $7, $9, $10 FROM delivery`,
      [id, request.hook.hook_id, request.hook.account_id, request.event_id, body, state, result.error, result.statusCode, Math.round(result.durationMs), result.responseBody],
    );
  }
}
