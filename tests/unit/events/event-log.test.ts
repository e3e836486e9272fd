// Live listeners (SSE, the fleet link) hear of an event only once it is stored: an event published in a
// transaction that rolls back never reaches them, and one that commits reaches them once, after the commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../agent/events/catalog.js';
import { EventLog, type AgentEvent } from '../../../agent/events/event-log.js';
import { DB_FILE, Store } from '../../../agent/store/store.js';
import { deviceReady } from '../../helpers/events.js';

const printJob = (job: string): EventPayload<'print.job'> => ({
  job,
  kind: 'print',
  device: 'printer-1',
  state: 'queued',
  previous: null,
});

let dir: string;
let store: Store;
let events: EventLog;
let heard: AgentEvent[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-events-'));
  store = Store.open(dir);
  events = new EventLog(store, 1000);
  heard = [];
  events.subscribe((e) => heard.push(e));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event log listeners', () => {
  it('hear an event published outside a transaction at once', () => {
    events.publish('device.state', deviceReady('p1'));
    expect(heard.map((e) => e.type)).toEqual(['device.state']);
  });

  it('hear an event published in a transaction only after it commits', () => {
    store.transaction(() => {
      events.publish('print.job', printJob('a'));
      expect(heard).toEqual([]);
    });
    expect(heard.map((e) => e.payload)).toEqual([printJob('a')]);
    expect(events.replay(0).map((e) => e.seq)).toEqual([heard[0]?.seq]);
  });

  it('never hear an event whose transaction rolled back, nor one from a rolled-back nested step', () => {
    expect(() =>
      store.transaction(() => {
        events.publish('print.job', printJob('gone'));
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    store.transaction(() => {
      events.publish('print.job', printJob('kept'));
      try {
        store.transaction(() => {
          events.publish('print.job', printJob('inner, rolled back'));
          throw new Error('step failed');
        });
      } catch {
        // the outer transaction goes on
      }
    });
    expect(heard.map((e) => (e.payload as { job: string }).job)).toEqual(['kept']);
    expect(events.replay(0).map((e) => (e.payload as { job: string }).job)).toEqual(['kept']);
  });

  it('hear an audit entry only once another connection can read it (committed)', () => {
    store.audit.onAppend((entry) => events.publish('audit.entry', { ...entry }));
    const other = new Database(join(dir, DB_FILE), { readonly: true });
    const committed: boolean[] = [];
    events.subscribe((e) =>
      committed.push(other.prepare('SELECT 1 FROM outbox WHERE seq = ?').get(e.seq) !== undefined),
    );
    store.audit.append({ actor: 'clerk', action: 'device.simulate', target: 'printer-1' });
    other.close();
    expect(committed).toEqual([true]);
  });
});

describe('event catalog on publish', () => {
  it('hands a live-only event (a capture hint) to listeners without storing it', () => {
    const hint = { capture: 'c1', camera: 'camera-1', missing: 'too-far', hint: 'move closer' };
    const published = events.publish('face.capture.hint', hint);
    expect(published.seq).toBeNull();
    expect(heard).toEqual([published]);
    expect(events.replay(0)).toEqual([]);
    expect(events.lastSeq()).toBe(0);
  });

  it('stores a kept event and gives it the next seq', () => {
    events.publish('device.state', deviceReady());
    events.publish('face.capture.hint', { capture: 'c1', camera: 'camera-1', missing: 'no-face', hint: 'h' });
    events.publish('device.state', deviceReady());
    expect(events.replay(0).map((e) => [e.seq, e.type])).toEqual([
      [1, 'device.state'],
      [2, 'device.state'],
    ]);
  });

  it('refuses, in tests, a payload off its schema and a type not in the catalog', () => {
    // Casts stand for what the compiler already refuses: a JS caller, or a payload built from `unknown`.
    const loose = events.publish.bind(events) as (type: string, payload: unknown) => AgentEvent;
    expect(() => loose('print.job', { job: 'a' })).toThrow(/event print\.job: payload/);
    expect(() => loose('print.job', { ...printJob('a'), printer: 'printer-1' })).toThrow(
      /additional properties/,
    );
    expect(() => loose('job.done', { job: 'a' })).toThrow(/job\.done: is not in the event catalog/);
    expect(() => loose('seal.job', printJob('a'))).toThrow(/event seal\.job: payload/);
    expect(events.replay(0)).toEqual([]);
    expect(heard).toEqual([]);
  });
});
