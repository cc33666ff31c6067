import { HookUndeliverableEvent } from '@posthooks/contracts';

/** SPEC §6: every email about undeliverable hooks has this subject, digests included, so users' mail filters keep working. */
export const SUBJECT = 'Unable to Deliver Post Load Notification';

/** How many folded events a digest lists; it counts all of them. */
export const DIGEST_SAMPLES = 10;

/** What a digest row keeps: the hook's URL, its window, the first few events folded in and the latest one. */
export interface DigestContent {
  url: string;
  window_opened_at: string;
  window_closes_at: string;
  samples: HookUndeliverableEvent[];
  latest: HookUndeliverableEvent;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface RenderContext {
  accountId: number;
  /** For the digest's explanation. */
  windowMs: number;
  /** CONSOLE_URL: when set, the email links to the hook's deliveries in the console. */
  consoleUrl?: string;
}

/** The email for one hook.undeliverable event: what failed, where, how often, and the last raw error. */
export function undeliverableEmail(e: HookUndeliverableEvent, ctx: RenderContext): RenderedEmail {
  const intro = `posthooks could not deliver a post-load notification to your webhook. After ${plural(e.attempts, 'attempt')} the endpoint had not answered with a 2xx status, so posthooks has stopped trying to send this event to it.`;
  const facts: [string, string][] = [
    ['Webhook URL', e.url],
    ['Integration', e.integration_name],
    ['Table', e.table_name],
    ['Event', `${e.event_type} (event id ${e.event_id})`],
    ['Attempts', String(e.attempts)],
    ['Last error', e.last_error],
    ['Gave up at', e.occurred_at],
    ['Webhook id', e.webhook_id],
  ];
  const todo = `Once the endpoint answers 2xx again, re-send this event with POST /v1/deliveries/${e.webhook_id}/redeliver, or everything that failed since a time with POST /v1/hooks/${e.hook_id}/recover (dispatcher API).`;
  const link = consoleLink(e.hook_id, ctx);
  return {
    subject: SUBJECT,
    text: [intro, '', factsText(facts), '', ...(link ? [`See this hook's deliveries in the console: ${link}`, ''] : []), todo, '', footer(ctx)].join('\n'),
    html: page([p(intro), factsHtml(facts), link ? linkHtml(link) : '', p(todo), small(footer(ctx))]),
  };
}

/** One digest for a window of a flooding hook: how many events were folded into it, and a few of them. */
export function digestEmail(d: DigestContent, folded: number, ctx: RenderContext): RenderedEmail {
  const intro = `posthooks could not deliver ${plural(folded, 'more post-load notification')} to your webhook between ${d.window_opened_at} and ${d.window_closes_at}.`;
  const why = `To keep your inbox readable, while a webhook keeps failing posthooks sends one digest per ${duration(ctx.windowMs)} instead of one email per notification. This digest folds in ${plural(folded, 'undeliverable notification')}.`;
  const facts: [string, string][] = [
    ['Webhook URL', d.url],
    ['Folded in', String(folded)],
    ['Latest', `${d.latest.integration_name} / ${d.latest.table_name}, ${d.latest.event_type} at ${d.latest.occurred_at}`],
    ['Latest error', `${d.latest.last_error} (after ${plural(d.latest.attempts, 'attempt')})`],
  ];
  const rest = folded - d.samples.length;
  const listTitle = d.samples.length < folded ? `The first ${d.samples.length}:` : 'They are:';
  const lines = d.samples.map((s) => `${s.occurred_at}  ${s.integration_name} / ${s.table_name}  ${s.event_type} ${s.event_id}: ${plural(s.attempts, 'attempt')}, ${s.last_error}`);
  const more = rest > 0 ? `... and ${rest} more.` : '';
  const todo = `Once the endpoint answers 2xx again, re-send everything that failed since a time with POST /v1/hooks/${d.latest.hook_id}/recover (dispatcher API).`;
  const link = consoleLink(d.latest.hook_id, ctx);
  return {
    subject: SUBJECT,
    text: [intro, '', why, '', factsText(facts), '', listTitle, ...lines.map((l) => `  - ${l}`), ...(more ? [`  ${more}`] : []), '', ...(link ? [`See this hook's deliveries in the console: ${link}`, ''] : []), todo, '', footer(ctx)].join('\n'),
    html: page([p(intro), p(why), factsHtml(facts), p(listTitle), `<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`, more ? p(more) : '', link ? linkHtml(link) : '', p(todo), small(footer(ctx))]),
  };
}

/** The hook's deliveries in the console (its hash route: the page reads it after sign-in; no secret in it). */
export function consoleLink(hookId: number, ctx: RenderContext): string | undefined {
  if (!ctx.consoleUrl) return undefined;
  return `${ctx.consoleUrl.replace(/[#/]+$/, '')}/#/hooks/${hookId}/deliveries`;
}

const linkHtml = (href: string) => `<p><a href="${escapeHtml(href)}">See this hook's deliveries in the console</a></p>`;

function footer(ctx: RenderContext): string {
  return `You receive this email because undeliverable-hook emails are on for account ${ctx.accountId}. To turn them off: PUT /v1/accounts/${ctx.accountId}/notifications {"undeliverable_email":false} (hook-registry API).`;
}

function factsText(facts: [string, string][]): string {
  const width = Math.max(...facts.map(([k]) => k.length)) + 2;
  return facts.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
}

function factsHtml(facts: [string, string][]): string {
  const rows = facts.map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`);
  return `<table>${rows.join('')}</table>`;
}

function page(parts: string[]): string {
  return `<!doctype html><html><body style="font-family:sans-serif">${parts.join('')}</body></html>`;
}

const p = (text: string) => `<p>${escapeHtml(text)}</p>`;
const small = (text: string) => `<p style="color:#666;font-size:smaller">${escapeHtml(text)}</p>`;

/** URLs and errors come from users and their endpoints: never markup. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function duration(ms: number): string {
  for (const [unit, size] of [['hour', 3_600_000], ['minute', 60_000], ['second', 1000]] as const) {
    if (ms % size === 0) return ms === size ? unit : plural(ms / size, unit);
  }
  return `${ms} ms`;
}
