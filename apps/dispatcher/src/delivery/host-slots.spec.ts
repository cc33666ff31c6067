import { HostSlots } from './host-slots';

describe('HostSlots', () => {
  it('bounds each host on its own, hands a freed slot to the waiter, and gives up after waitMs', async () => {
    const slots = new HostSlots(2);
    expect(await slots.take('a:443', 0)).toBe(true);
    expect(await slots.take('a:443', 0)).toBe(true);
    expect(await slots.take('b:443', 0)).toBe(true); // another host is not held up
    expect(await slots.take('a:443', 20)).toBe(false);

    const waiting = slots.take('a:443', 1000);
    slots.release('a:443');
    expect(await waiting).toBe(true);
    expect(await slots.take('a:443', 0)).toBe(false);

    slots.release('a:443');
    slots.release('a:443');
    slots.release('b:443');
    // Every slot free again: a host starts over with all of them.
    expect(await slots.take('a:443', 0)).toBe(true);
    expect(await slots.take('a:443', 0)).toBe(true);
    expect(await slots.take('a:443', 0)).toBe(false);
  });
});
