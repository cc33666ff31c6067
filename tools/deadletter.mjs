#!/usr/bin/env node
// `npm run deadletter -- list [subject]` and `npm run deadletter -- replay <seq|subject>`:
// the operator's view of the DEADLETTER stream (SPEC §4). Reads NATS_URL and
// NATS_NAMESPACE like the services. It reads the stream directly (no consumer acks
// anything); a replay re-publishes each dead letter to its original subject and, once
// JetStream has stored it there, deletes the dead letter, so `list` shows what is still
// parked. The re-published message says where it came from (Posthooks-Replayed-From).
import { connect, headers as natsHeaders } from 'nats';

// The same names as libs/contracts (DeadLetterHeaders) and libs/messaging (NatsNaming).
const HEADER = {
  reason: 'Posthooks-Deadletter-Reason',
  subject: 'Posthooks-Original-Subject',
  stream: 'Posthooks-Original-Stream',
  sequence: 'Posthooks-Original-Sequence',
  msgId: 'Posthooks-Original-Msg-Id',
  replayedFrom: 'Posthooks-Replayed-From',
};
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const NAMESPACE = process.env.NATS_NAMESPACE || '';
const subjectOf = (logical) => (NAMESPACE ? `${NAMESPACE}.${logical}` : logical);
const STREAM = NAMESPACE ? `${NAMESPACE.toUpperCase()}_DEADLETTER` : 'DEADLETTER';

const USAGE = `usage:
  npm run deadletter -- list [subject]          dead letters (of one original subject, wildcards allowed: registry.>)
  npm run deadletter -- replay <seq|subject>    re-publish one dead letter (by its DEADLETTER sequence), or all of a subject,
                                                to the original subject; each one stored there is deleted from DEADLETTER`;

async function main([command, target, ...rest]) {
  if (!['list', 'replay'].includes(command) || rest.length > 0 || (command === 'replay' && !target)) {
    console.error(USAGE);
    return 2;
  }
  if (target !== undefined && !/^[0-9]+$/.test(target) && !/^[A-Za-z0-9_.*>-]+$/.test(target)) {
    console.error(`not a sequence or a subject: ${target}\n${USAGE}`);
    return 2;
  }
  let nc;
  try {
    nc = await connect({ servers: NATS_URL.split(','), timeout: 5000, reconnect: false });
  } catch (err) {
    console.error(`NATS is not reachable at ${NATS_URL.replace(/\/\/[^@/]*@/, '//***@')}: ${err.message}`);
    return 1;
  }
  try {
    const letters = await deadLetters(nc, target);
    return command === 'list' ? list(letters, target) : await replay(nc, letters, target);
  } finally {
    await nc.close();
  }
}

/** The dead letters, oldest first: one of them (a sequence), those of an original subject, or all. */
async function deadLetters(nc, target) {
  const jsm = await nc.jetstreamManager();
  if (target !== undefined && /^[0-9]+$/.test(target)) {
    const message = await jsm.streams.getMessage(STREAM, { seq: Number(target) }).catch((err) => {
      if (/no message found|not found/i.test(err.message)) return undefined;
      throw err;
    });
    return message ? [describe(message.seq, message.subject, message.header, message.data, message.time)] : [];
  }
  // An ordered consumer reads the stream without a durable consumer and without acks.
  const consumer = await nc.jetstream().consumers.get(STREAM, { filterSubjects: subjectOf(`deadletter.${target ?? '>'}`) });
  if ((await consumer.info()).num_pending === 0) return [];
  const out = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push(describe(m.seq, m.subject, m.headers, m.data, new Date(Math.floor(m.info.timestampNanos / 1e6))));
    if (m.info.pending === 0) break;
  }
  messages.stop();
  return out;
}

function describe(seq, subject, header, data, time) {
  const fallback = subject.slice(subjectOf('deadletter.').length);
  return {
    seq,
    time,
    data,
    originalSubject: header?.get(HEADER.subject) || fallback,
    originalStream: header?.get(HEADER.stream) || '?',
    originalSequence: header?.get(HEADER.sequence) || '?',
    originalMsgId: header?.get(HEADER.msgId) || undefined,
    reason: header?.get(HEADER.reason) || '(no reason recorded)',
  };
}

function preview(data, width = 60) {
  // Control characters (newlines, escapes) would break the listing or the terminal.
  const text = [...Buffer.from(data).toString('utf8')].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('');
  return text.length > width ? `${text.slice(0, width)}… (${data.length} bytes)` : text;
}

function list(letters, target) {
  if (letters.length === 0) {
    console.log(`no dead letters${target ? ` for ${target}` : ''} in ${STREAM}`);
    return 0;
  }
  for (const l of letters) {
    console.log(`#${l.seq}  ${l.time.toISOString()}  ${l.originalSubject} (${l.originalStream} #${l.originalSequence})\n    reason: ${l.reason}\n    body:   ${preview(l.data)}`);
  }
  console.log(`${letters.length} dead letter${letters.length === 1 ? '' : 's'}`);
  return 0;
}

/**
 * Publishes each one to its original subject under its original Nats-Msg-Id (so what keys
 * work by it, the email-notifier's exactly-once record for one, sees the same message), or
 * `replay-<stream>-<seq>` when it had none. A duplicate answer means the original is still
 * within its stream's 2-minute de-duplication window: nothing was stored, the dead letter
 * is kept, try again later.
 */
async function replay(nc, letters, target) {
  if (letters.length === 0) {
    console.error(`no dead letters for ${target} in ${STREAM}`);
    return 1;
  }
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  let failed = 0;
  for (const l of letters) {
    const h = natsHeaders();
    h.set(HEADER.replayedFrom, `${STREAM} #${l.seq}`);
    try {
      const ack = await js.publish(subjectOf(l.originalSubject), l.data, { msgID: l.originalMsgId ?? `replay-${STREAM}-${l.seq}`, headers: h });
      if (ack.duplicate) {
        failed++;
        console.error(`#${l.seq} not replayed: ${ack.stream} still holds its Nats-Msg-Id ${l.originalMsgId} (de-duplication window, 2 min after the original); run the replay again later`);
        continue;
      }
      await jsm.streams.deleteMessage(STREAM, l.seq, false);
      console.log(`#${l.seq} replayed to ${l.originalSubject} (${ack.stream} #${ack.seq}); deleted from ${STREAM}`);
    } catch (err) {
      failed++;
      console.error(`#${l.seq} not replayed: ${err.message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`deadletter: ${err.message}`);
    process.exit(1);
  },
);
