/**
 * Text from a receiver (its answer's body, an error naming its certificate) as Postgres
 * can store it: a `text` column refuses NUL, and a write refused for one attempt failed
 * the attempt's whole record (the outcome lost, the webhook sent again). Bytes that are
 * not UTF-8 are already U+FFFD once decoded; NUL becomes U+FFFD too. (A lone surrogate
 * cannot come out of decoding, and the driver would encode one as U+FFFD anyway.)
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\ufffd');
}
