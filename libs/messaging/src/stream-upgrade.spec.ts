import { firstSeqToCopy, mustCarryOver, nextProvisionStep, safeMaxBytes, subjectMatches } from './stream-upgrade';

describe('nextProvisionStep', () => {
  const cases: [string, Parameters<typeof nextProvisionStep>, ReturnType<typeof nextProvisionStep>][] = [
    ['Test scenario: no stream yet: create it', ['workqueue', undefined, false], 'create'],
    ['Test scenario: the old stream is gone mid-upgrade (crash after the copy): create the new one', ['workqueue', undefined, true], 'create'],
    ['Test scenario: same retention: change the rest in place', ['workqueue', { retention: 'workqueue', sealed: false }, false], 'update'],
    ['Test scenario: today\'s limits stream: seal it first so nothing arrives during the copy', ['workqueue', { retention: 'limits', sealed: false }, false], 'seal'],
    ['Test scenario: sealed old stream (maybe a copy cut off by a crash): copy out', ['workqueue', { retention: 'limits', sealed: true }, true], 'copy-out'],
    ['Test scenario: sealed old stream, no copy begun: copy out', ['workqueue', { retention: 'limits', sealed: true }, false], 'copy-out'],
    ['Test scenario: new stream beside set-aside messages: restore them', ['workqueue', { retention: 'workqueue', sealed: false }, true], 'restore'],
    ['Test scenario: REGISTRY keeps its limits retention: update', ['limits', { retention: 'limits', sealed: false }, false], 'update'],
  ];
  it.each(cases)('%s', (_, args, step) => expect(nextProvisionStep(...args)).toBe(step));
});

describe('safeMaxBytes', () => {
  it.each([
    ['Test scenario: a stream under its wanted limit gets it', 64, 10, false, 64],
    ['Test scenario: never below what a discard-new stream stores (nats-server would delete its oldest)', 64, 100, false, 100],
    ['Test scenario: DEADLETTER drops its oldest by design: the wanted limit', 64, 100, true, 64],
  ])('%s', (_, wanted, stored, dropsOld, expected) => expect(safeMaxBytes(wanted, stored, dropsOld)).toBe(expected));
});

describe('subjectMatches', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.b', 'a.b.c', false],
  ])('%s matches %s: %s', (filter, subject, expected) => expect(subjectMatches(filter, subject)).toBe(expected));
});

describe('what an upgrade carries over', () => {
  const notify = [
    { filter: 'hook.undeliverable', ackFloor: 10 },
    { filter: 'hook.gone', ackFloor: 4 },
  ];
  it.each([
    ['Test scenario: acknowledged by its only reader: left behind', 8, 'hook.undeliverable', notify, false],
    ['Test scenario: above its reader\'s ack floor: carried over', 11, 'hook.undeliverable', notify, true],
    ['Test scenario: the other subject\'s reader is behind: carried over', 5, 'hook.gone', notify, true],
    ['Test scenario: no consumer reads it yet (the dispatcher never started): carried over', 1, 'table.loaded', [], true],
    ['Test scenario: a whole-stream consumer has acknowledged it', 3, 'table.loaded', [{ filter: '', ackFloor: 3 }], false],
    ['Test scenario: one of two readers has not: carried over', 3, 'table.loaded', [{ filter: '', ackFloor: 3 }, { filter: 'table.>', ackFloor: 2 }], true],
  ])('%s', (_, seq, subject, consumers, expected) => expect(mustCarryOver(seq, subject, consumers)).toBe(expected));

  it('starts the copy after the lowest ack floor of the subjects\' readers', () => {
    expect(firstSeqToCopy(1, ['hook.undeliverable', 'hook.gone'], notify)).toBe(5);
    expect(firstSeqToCopy(1, ['table.loaded', 'table.rejected'], [{ filter: '', ackFloor: 40 }])).toBe(41);
    // A subject nobody reads: from the start.
    expect(firstSeqToCopy(3, ['hook.undeliverable', 'hook.gone'], [notify[0]])).toBe(3);
    expect(firstSeqToCopy(50, ['table.loaded'], [{ filter: '', ackFloor: 40 }])).toBe(50);
  });
});
