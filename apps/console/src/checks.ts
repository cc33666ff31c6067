// What the page checks before calling the API, so that an answer it can foresee is never
// a 4xx (the browser logs those as errors) and the user learns at once. The servers keep
// their own checks: these only mirror SPEC §3 and §7.

/** SPEC §3: absolute https://, parsable, no credentials, at most 2,048 characters. */
export function isValidHookUrl(value: string): boolean {
  if (value.length === 0 || value.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
}

/** SPEC §7: a top-level field name of at most 50 characters. */
export function isValidPrimaryKey(value: string): boolean {
  return value.length > 0 && value.length <= 50;
}

/** "orders, customers" → ["orders","customers"]; empty → []. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * Successes and failures per hour over the 24 hours before `now`: 24 buckets, oldest
 * first, each starting at a whole hour. Attempts still pending are not counted.
 */
export function hourlyCounts(attempts: { status: string; attempted_at: string }[], now: Date): { hours: number[]; succeeded: number[]; failed: number[] } {
  const hour = 3_600_000;
  const last = Math.floor(now.getTime() / hour) * hour;
  const first = last - 23 * hour;
  const hours = Array.from({ length: 24 }, (_, i) => first + i * hour);
  const succeeded = new Array<number>(24).fill(0);
  const failed = new Array<number>(24).fill(0);
  for (const attempt of attempts) {
    const at = Date.parse(attempt.attempted_at);
    if (Number.isNaN(at) || at < first || at >= last + hour) continue;
    const index = Math.floor((at - first) / hour);
    if (attempt.status === 'succeeded') succeeded[index]++;
    else if (attempt.status === 'failed') failed[index]++;
  }
  return { hours, succeeded, failed };
}

/** A Postgres connection URL from its parts, each part encoded (a password may hold @ or /). */
export function postgresUrl(parts: { host: string; port: string; database: string; user: string; password: string }): string {
  const auth = `${encodeURIComponent(parts.user)}${parts.password ? `:${encodeURIComponent(parts.password)}` : ''}`;
  return `postgres://${auth}@${parts.host}${parts.port ? `:${parts.port}` : ''}/${encodeURIComponent(parts.database)}`;
}
