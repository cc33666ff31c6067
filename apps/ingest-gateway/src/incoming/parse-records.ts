import { parseJson } from '@posthooks/contracts';
import { refuseJsonBody } from '@posthooks/runtime';

export type ParsedRecords = { ok: true; records: Record<string, unknown>[] } | { ok: false; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object, or an array of objects, as records. Anything else says what is wrong. */
export function parseRecords(body: Buffer): ParsedRecords {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, error: 'body is not valid UTF-8' };
  }
  let value: unknown;
  try {
    // Lossless: a posted 9007199254740993 must not become ...992 (and merge two records' ids).
    value = parseJson(text);
  } catch (err) {
    return { ok: false, error: `body is not valid JSON: ${(err as Error).message}` };
  }
  // What Postgres cannot store (NUL, lone surrogates) or a loader cannot walk (deep
  // nesting overflowed JSON.stringify's stack with a 500) is refused here, not after a 202.
  const refused = refuseJsonBody(value, { checkStrings: true, anyKey: true });
  if (refused) return { ok: false, error: refused };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(value)) return { ok: true, records: [value] };
  if (Array.isArray(value)) {
    const bad = value.findIndex((v) => !isObject(v));
    if (bad >= 0) return { ok: false, error: `element ${bad} of the array is not a JSON object` };
    return { ok: true, records: value };
  }
  return { ok: false, error: 'body must be a JSON object or an array of JSON objects' };
}

/** JSON, by media type: application/json or any application/*+json, with or without parameters. */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}
