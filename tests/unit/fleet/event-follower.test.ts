// The bookkeeping of `boxagent fleet events --follow` (docs/mqtt.md, "What a collector must do"): each event
// once, in seq order, a gap fetched from the box's log before going on, events the box no longer has named.
// The box's log is an array here; the e2e test (tests/e2e/fleet-cli.test.ts) runs it against a real daemon.
import { describe, expect, it } from 'vitest';
import { EventFollower } from '../../../agent/cli/fleet/events-command.js';

const event = (seq: number) => ({
  id: `e${seq}`,
  seq,
  type: 'device.state',
  createdAt: '2026-01-01T08:00:00.000Z',
  payload: {},
});

function follower(log: ReturnType<typeof event>[], after?: number) {
  const printed: number[] = [];
  const notices: string[] = [];
  let fetches = 0;
  const f = new EventFollower(
    after,
    (from) => {
      fetches++;
      const events = log.filter((e) => e.seq > from).slice(0, 3); // small pages: paging is exercised
      return Promise.resolve({ events, lastSeq: log.at(-1)?.seq ?? 0 });
    },
    (e) => printed.push(e.seq),
    (line) => notices.push(line),
  );
  return { f, printed, notices, fetches: () => fetches };
}

describe('fleet events follower', () => {
  it('hands each event on once, dropping repeats by id and old seqs', async () => {
    const { f, printed } = follower([]);
    for (const seq of [5, 6, 6, 7, 5]) await f.received(event(seq));
    expect(printed).toEqual([5, 6, 7]);
  });

  it('fills a gap from the log before the event that showed it, paging until it is closed', async () => {
    const log = Array.from({ length: 10 }, (_, i) => event(i + 1));
    const { f, printed, fetches } = follower(log, 1);
    await f.received(event(9));
    await f.received(event(8)); // arrives late: already fetched
    await f.received(event(10));
    expect(printed).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(fetches()).toBeGreaterThanOrEqual(3);
  });

  it('fetches when telemetry says the box has newer events, and names those the box no longer has', async () => {
    const log = [event(7), event(8)]; // 3..6 were trimmed on the box
    const { f, printed, notices } = follower(log, 2);
    await f.ahead(8);
    expect(printed).toEqual([7, 8]);
    expect(notices).toEqual(["events 3..6 are no longer in the box's log"]);
  });

  it('retries a failed fetch later without marking anything seen', async () => {
    const log = [event(1), event(2), event(3)];
    let fail = true;
    const printed: number[] = [];
    const f = new EventFollower(
      0,
      (from) =>
        fail
          ? Promise.reject(new Error('no reply'))
          : Promise.resolve({ events: log.filter((e) => e.seq > from), lastSeq: 3 }),
      (e) => printed.push(e.seq),
      () => undefined,
    );
    await f.received(event(3));
    expect(printed).toEqual([]);
    fail = false;
    await f.ahead(3);
    expect(printed).toEqual([1, 2, 3]);
  });
});
