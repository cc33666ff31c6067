// How `npm start` shows the services' logs in development: one readable line per event
// (time, service, level, context, message; coloured on a terminal) instead of the JSON
// lines the services write, which stay the production format (and what `npm start` shows
// with NODE_ENV=production or LOG_FORMAT=json). A line that is not a JSON log object (the
// demo receiver, MailDev) is shown as it is.

const COLOURS = { fatal: '\x1b[1;31m', error: '\x1b[31m', warn: '\x1b[33m', log: '\x1b[32m', debug: '\x1b[35m', verbose: '\x1b[36m' };
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

const pad2 = (n) => String(n).padStart(2, '0');
function clock(ms) {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * One line of `service`'s output as a person reads it.
 * @param {string} service the name `npm start` knows the process by
 * @param {string} line what the process wrote
 * @param {{ colors: boolean, now?: number }} options colours on a terminal; `now` for lines without a time
 */
export function readableLine(service, line, { colors, now = Date.now() }) {
  const paint = (code, text) => (colors ? `${code}${text}${RESET}` : text);
  const name = paint('\x1b[36m', service.padEnd(14));
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = undefined;
  }
  if (!entry || typeof entry !== 'object' || typeof entry.level !== 'string' || !('message' in entry)) return `${paint(DIM, clock(now))} ${name} ${line}`;
  const level = paint(COLOURS[entry.level] ?? '', entry.level.toUpperCase().padEnd(7));
  const context = entry.context ? `${paint(DIM, `[${entry.context}]`)} ` : '';
  const message = typeof entry.message === 'string' ? entry.message : JSON.stringify(entry.message);
  const stack = typeof entry.stack === 'string' && entry.stack ? `\n${entry.stack.replace(/^/gm, '    ')}` : '';
  return `${paint(DIM, clock(typeof entry.timestamp === 'number' ? entry.timestamp : now))} ${name} ${level} ${context}${message}${stack}`;
}
