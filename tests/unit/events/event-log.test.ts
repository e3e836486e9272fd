// Live listeners (SSE, the fleet link) hear of an event only once it is stored: an event published in a
// transaction that rolls back never reaches them, and one that commits reaches them once, after the commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLog, type AgentEvent } from '../../../agent/events/event-log.js';
import { DB_FILE, Store } from '../../../agent/store/store.js';

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
    events.publish('device.state', { device: 'p1' });
    expect(heard.map((e) => e.type)).toEqual(['device.state']);
  });

  it('hear an event published in a transaction only after it commits', () => {
    store.transaction(() => {
      events.publish('print.job', { job: 'a' });
      expect(heard).toEqual([]);
    });
    expect(heard.map((e) => e.payload)).toEqual([{ job: 'a' }]);
    expect(events.replay(0).map((e) => e.seq)).toEqual([heard[0]?.seq]);
  });

  it('never hear an event whose transaction rolled back, nor one from a rolled-back nested step', () => {
    expect(() =>
      store.transaction(() => {
        events.publish('print.job', { job: 'gone' });
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    store.transaction(() => {
      events.publish('print.job', { job: 'kept' });
      try {
        store.transaction(() => {
          events.publish('print.job', { job: 'inner, rolled back' });
          throw new Error('step failed');
        });
      } catch {
        // the outer transaction goes on
      }
    });
    expect(heard.map((e) => e.payload)).toEqual([{ job: 'kept' }]);
    expect(events.replay(0).map((e) => e.payload)).toEqual([{ job: 'kept' }]);
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
