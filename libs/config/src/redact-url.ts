/**
 * A URL (or comma-separated list of URLs) fit for logs and error messages: any
 * `user:password@` part becomes `***@`. The user goes too, since NATS carries tokens
 * there. Works on strings that do not parse as URLs.
 */
export function redactUrl(value: string): string {
  return value.replace(/[^\s/@,]+@/g, '***@');
}
