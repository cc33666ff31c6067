/**
 * What a JSON body turns into, counted from its bytes without parsing it: how many
 * records it holds (elements of a top-level array, or 1 for an object) and how many
 * values it would become in memory. The gateway refuses a post of too many records and
 * reserves memory for a body by what it turns into before `JSON.parse` builds it: 4 MiB
 * of `[[],[],…]` is 1.4 million arrays, about 56 MB of heap, where 4 MiB of text is 4 MB.
 *
 * The count is of tokens, not a validation: malformed JSON gets a count of some sort, and
 * the parser refuses it afterwards.
 */
export interface BodyShape {
  /** Elements of the top-level array (its commas at depth 1, plus one), or 1 for anything else. */
  records: number;
  /** Objects and arrays. */
  containers: number;
  /** Strings (keys included), numbers, true, false, null. */
  scalars: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Bytes where a number or literal may start: `-`, digits, `t`, `f`, `n`. */
const SCALAR_START = new Uint8Array(256);
for (const c of '-0123456789tfn') SCALAR_START[c.charCodeAt(0)] = 1;
/** Bytes after which a token starts: `[`, `{`, `,`, `:` and whitespace. */
const TOKEN_BEFORE = new Uint8Array(256);
for (const c of '[{,: \t\r\n') TOKEN_BEFORE[c.charCodeAt(0)] = 1;

export function bodyShape(body: Uint8Array): BodyShape {
  let depth = 0;
  let containers = 0;
  let scalars = 0;
  let commasAtTop = 0;
  let topIsArray = false;
  let topIsEmpty = true;
  let previous = 0x20;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === QUOTE) {
      // Skip the string: its bytes are one value, whatever they are.
      scalars++;
      if (depth === 1) topIsEmpty = false;
      for (i++; i < body.length && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++;
      previous = QUOTE;
      continue;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (depth === 0 && containers === 0) topIsArray = c === OPEN_ARRAY;
      else if (depth === 1) topIsEmpty = false;
      containers++;
      depth++;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c === COMMA) {
      if (depth === 1) commasAtTop++;
    } else if (SCALAR_START[c] === 1 && TOKEN_BEFORE[previous] === 1) {
      scalars++;
      if (depth === 1) topIsEmpty = false;
    }
    previous = c;
  }
  const records = topIsArray ? (topIsEmpty ? 0 : commasAtTop + 1) : 1;
  return { records, containers, scalars };
}

/**
 * Bytes of heap a body of `bytes` and `shape` may take while the gateway holds it: its
 * text about twice (decoded, then re-serialized for INGEST), plus what V8 spends per
 * value (measured with `--expose-gc`: an empty array or object 40-64 bytes, a number or
 * a short string in an array 8-16).
 */
export function heapEstimate(bytes: number, shape: BodyShape): number {
  return 2 * bytes + 64 * shape.containers + 16 * shape.scalars;
}
