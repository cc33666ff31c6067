import { randomBytes } from 'node:crypto';

/**
 * JSON whose numbers keep every digit. JSON.parse turns a number into a double, which
 * holds 15 significant digits exactly: `9007199254740993` comes back as
 * `9007199254740992`, so two records with different ids would be loaded as one row.
 * Third-party records are parsed with `parseJson` (the gateway's body, the loader's
 * INGEST message) and written with `stringifyJson` (the INGEST message, the loader's
 * rows): a number of more than 15 significant digits is a `LosslessNumber`, whose JSON is
 * its exact text, so it reaches Postgres's `numeric` column as it was posted.
 *
 * Node 20 has neither JSON.parse's source text nor JSON.rawJSON, so both sides use a
 * marker: a string that only this process can write (it holds a random nonce). Bodies
 * without a run of 16 digits (nearly all) take JSON.parse / JSON.stringify as they are.
 */
export class LosslessNumber {
  /** The number exactly as it was written in the JSON text. */
  readonly text: string;

  constructor(text: string) {
    if (!JSON_NUMBER.test(text)) throw new TypeError(`not a JSON number: ${text.slice(0, 40)}`);
    this.text = text;
  }

  /** The nearest double, for arithmetic and comparisons. */
  valueOf(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }

  /** Exact digits under `stringifyJson`; a plain JSON.stringify can only write them as a string. */
  toJSON(): string {
    if (stringifying === 0) return this.text;
    marked++;
    return MARK + this.text;
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
/** A double holds any decimal of this many significant digits exactly (DBL_DIG). */
const EXACT_DIGITS = 15;
/** Not guessable by a sender, so no posted string can pass for a marker. */
const MARK = `~lossless-${randomBytes(12).toString('hex')}~`;
const MARKED_IN_OUTPUT = new RegExp(`"${MARK}([-+.0-9eE]+)"`, 'g');

let stringifying = 0;
let marked = 0;

/** JSON.parse, except that numbers of more than 15 significant digits become `LosslessNumber`s. */
export function parseJson(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  const withMarks = markLongNumbers(text);
  const value: unknown = JSON.parse(withMarks);
  return withMarks === text ? value : restoreNumbers(value);
}

/** JSON.stringify, except that `LosslessNumber`s are written as their exact digits. */
export function stringifyJson(value: unknown): string {
  const before = marked;
  let text: string;
  stringifying++;
  try {
    text = JSON.stringify(value);
  } finally {
    stringifying--;
  }
  return marked === before ? text : text.replace(MARKED_IN_OUTPUT, '$1');
}

/** Whether a number's text has more significant digits than a double holds. */
export function needsLossless(numberText: string): boolean {
  let digits = 0;
  let leading = true;
  for (let i = 0; i < numberText.length; i++) {
    const c = numberText.charCodeAt(i);
    if (c === 0x65 || c === 0x45) break; // e, E: the exponent is not a significant digit
    if (c < 0x30 || c > 0x39) continue; // -, .
    if (leading && c === 0x30) continue;
    leading = false;
    digits++;
  }
  return digits > EXACT_DIGITS;
}

/**
 * Whether the text has a run of 16 digits anywhere (so may hold a number JSON.parse would
 * round). Looks at every 16th character only, since any such run covers one of them, and
 * around those that are digits: about a tenth of the time of JSON.parse on ordinary
 * records, where /\d{16}/ took a third (bench/parse).
 */
export function hasLongDigitRun(text: string): boolean {
  for (let i = 15; i < text.length; i += 16) {
    if (!isDigit(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < text.length && isDigit(text.charCodeAt(end))) end++;
    if (end - start >= 16) return true;
    i = end; // the next run starts after `end`: its 16th digit is at end + 16 or later
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/**
 * The text with every long number outside strings turned into a marker string, for
 * JSON.parse to read. Only valid number tokens are marked, so a text JSON.parse refuses
 * is still refused (a marked key is caught by `restoreNumbers`).
 */
function markLongNumbers(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i) + 1;
      if (i === 0) return text; // unterminated: JSON.parse says so
      continue;
    }
    if (c === MINUS || isDigit(c)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const token = text.slice(i, end);
      if (JSON_NUMBER.test(token) && needsLossless(token)) {
        parts.push(text.slice(copied, i), `"${MARK}${token}"`);
        copied = end;
      }
      i = end;
      continue;
    }
    i++;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** Index of the quote closing the string opened at `start`, or -1. */
function endOfString(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/** Marker strings back into `LosslessNumber`s; iterative, so any depth is safe. */
function restoreNumbers(root: unknown): unknown {
  const restore = (value: unknown): unknown => (typeof value === 'string' && value.startsWith(MARK) ? new LosslessNumber(value.slice(MARK.length)) : value);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object') stack.push(item);
        else value[i] = restore(item);
      }
      continue;
    }
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (key.startsWith(MARK)) throw new SyntaxError('Unexpected number in JSON: a property name must be a string');
      const item = object[key];
      if (typeof item === 'object') stack.push(item);
      // defineProperty, not `=`: a record's own `__proto__` field stays a field.
      else if (typeof item === 'string' && item.startsWith(MARK)) Object.defineProperty(object, key, { value: restore(item), writable: true, enumerable: true, configurable: true });
    }
  }
  return restore(root);
}
