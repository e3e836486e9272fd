// The fleet contract's promises that need a real broker, checked with Debian's mosquitto and its own clients
// as the collector: events missed while the collector was away are found (telemetry's lastEventSeq, a jump in
// seq) and fetched with the `events.list` RPC; the link's liveness (keepalive, the Last Will dating its
// session, retained telemetry); a request published while the box is down waits in its persistent session.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventMessage, RpcReply, StatusMessage, TelemetryMessage } from '../../agent/fleet/contract.js';
import { Store } from '../../agent/store/store.js';
import { postJson, removeDir, startDaemon, type Daemon } from '../helpers/daemon.js';
import {
  mosquittoPub,
  mosquittoRr,
  mosquittoSub,
  readRetained,
  startMosquitto,
  type Mosquitto,
  type Subscriber,
} from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const ROOT = 'boxagent/v1/dev-box';

let broker: Mosquitto;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  broker = await startMosquitto();
});
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
  await broker.dispose();
});

async function daemonOnBroker(env: Record<string, string> = {}, storageDir?: string): Promise<Daemon> {
  const daemon = await startDaemon({
    storageDir,
    env: {
      BOXAGENT_MQTT_URL: broker.url,
      BOXAGENT_MQTT_RECONNECT_MIN_MS: '100',
      BOXAGENT_MQTT_RECONNECT_MAX_MS: '500',
      BOXAGENT_LOG_LEVEL: 'info',
      ...env,
    },
  });
  cleanups.push(async () => {
    await daemon.stop('SIGKILL');
    removeDir(daemon.storageDir);
  });
  return daemon;
}

const connected = (d: Daemon) => d.logs.some((l) => l.msg === 'fleet link connected');

/** A subscriber that has its subscription in place (checked with a probe message on `test/ready`). */
async function subscribed(topics: string[], format = '%t|%p'): Promise<Subscriber> {
  const sub = mosquittoSub(broker.port, [...topics, 'test/ready'], format);
  cleanups.push(() => sub.stop());
  await waitFor('the subscriber to be subscribed', () => {
    if (sub.lines.some((l) => l.startsWith('test/ready|'))) return true;
    mosquittoPub(broker.port, 'test/ready', 'x');
    return false;
  });
  return sub;
}

function messages<T>(sub: Subscriber, topic: string): T[] {
  return sub.lines
    .filter((l) => l.startsWith(`${topic}|`))
    .map((l) => JSON.parse(l.slice(topic.length + 1)) as T);
}

async function simulateFault(daemon: Daemon, fault: 'offline' | 'none'): Promise<void> {
  const r = await daemon.fetch('/v1/devices/printer-1/simulator', postJson({ fault }));
  expect(r.status).toBe(200);
}

interface EventsPage {
  events: (Omit<EventMessage, 'schema'> & { seq: number })[];
  lastSeq: number;
}

function eventsList(after: number, limit: number): EventsPage {
  const reply = JSON.parse(
    mosquittoRr(broker.port, `${ROOT}/rpc/events.list`, JSON.stringify({ after, limit })),
  ) as RpcReply;
  if (!reply.ok) throw new Error(`events.list failed: ${JSON.stringify(reply.error)}`);
  return reply.result as EventsPage;
}

describe('events never lost: a gap is detected and fetched with events.list', () => {
  it('fetches the events published while the collector was away, as the default (unsigned) fleet role', async () => {
    const daemon = await daemonOnBroker({
      BOXAGENT_MQTT_TELEMETRY_INTERVAL_SECONDS: '1',
      BOXAGENT_SUPERVISION_PROBE_INTERVAL_MS: '50',
      BOXAGENT_SUPERVISION_FAILURES_BEFORE_ERROR: '1',
      BOXAGENT_SUPERVISION_BACKOFF_INITIAL_MS: '50',
      BOXAGENT_SUPERVISION_BACKOFF_MAX_MS: '100',
    });
    await waitFor('fleet link connected', () => connected(daemon), 15_000);

    // The collector is there while the printer fails once: it stores what it receives.
    const first = await subscribed([`${ROOT}/events`]);
    await simulateFault(daemon, 'offline');
    await waitFor('the printer offline event', () =>
      messages<EventMessage>(first, `${ROOT}/events`).some(
        (e) => e.type === 'device.state' && (e.payload as { state?: string }).state !== 'ready',
      ),
    );
    await first.stop();
    const stored = new Map(messages<EventMessage>(first, `${ROOT}/events`).map((e) => [e.id, e]));
    const highest = Math.max(...[...stored.values()].map((e) => e.seq));

    // Away (a clean session: the broker keeps nothing for it): the printer recovers and fails again.
    const store = Store.open(daemon.storageDir);
    cleanups.push(() => store.close());
    const printerStates = () =>
      store.outbox.after(highest, 1000).filter((e) => e.type === 'device.state').length;
    await simulateFault(daemon, 'none');
    await waitFor('the printer back', () => printerStates() >= 1);
    await simulateFault(daemon, 'offline');
    await waitFor('the printer failing again', () => printerStates() >= 2);
    await waitFor('the box to have sent them', () => store.outbox.unsentSummary().count === 0, 20_000);
    const missed = store.outbox.after(highest, 1000).map((e) => e.id);
    expect(missed.length).toBeGreaterThanOrEqual(3);

    // Back: telemetry's lastEventSeq is ahead of the highest seq stored, so there is a gap.
    const back = await subscribed([`${ROOT}/telemetry`]);
    // (The first sample it gets may be the retained one from before; the next one shows the gap.)
    const gapShown = () =>
      messages<TelemetryMessage>(back, `${ROOT}/telemetry`).some((t) => t.lastEventSeq > highest);
    await waitFor('telemetry showing the gap', gapShown, 10_000);

    // Fetched page by page (2 at a time) from the highest stored seq up to lastSeq, de-duplicated by id.
    let after = highest;
    for (;;) {
      const page = eventsList(after, 2);
      for (const e of page.events) stored.set(e.id, { schema: 1, ...e });
      after = page.events.at(-1)?.seq ?? after;
      if (after >= page.lastSeq) break;
    }
    expect([...stored.values()].filter((e) => e.seq > highest).map((e) => e.id)).toEqual(missed);
    const recovered = [...stored.values()].filter((e) => e.seq > highest);
    expect(recovered.map((e) => e.type)).toContain('device.state');
    // Every kept event is the fleet's, whatever its scope: the list has no holes.
    expect(recovered.map((e) => e.seq)).toEqual(recovered.map((_, i) => highest + 1 + i));
  }, 60_000);
});

/** The retained message on `topic` as {retained, message}. */
function retained<T>(topic: string): { retained: boolean; message: T } {
  const line = readRetained(broker.port, topic);
  const bar = line.indexOf('|');
  return { retained: line.slice(0, bar) === '1', message: JSON.parse(line.slice(bar + 1)) as T };
}

describe('liveness of the link', () => {
  it('a frozen box is declared lost after its keepalive, the will dating the session it ends', async () => {
    const daemon = await daemonOnBroker({ BOXAGENT_MQTT_KEEPALIVE_SECONDS: '1' });
    await waitFor('fleet link connected', () => connected(daemon), 15_000);
    await waitFor('online status retained', () =>
      readRetained(broker.port, `${ROOT}/status`).includes('"online":true'),
    );
    const online = retained<StatusMessage>(`${ROOT}/status`).message;
    if (!online.online) throw new Error('unreachable');
    expect(Date.parse(online.since)).toBeLessThanOrEqual(Date.parse(online.connectedAt));
    // The broker was told the keepalive the config asks for (and a persistent session: c0, clean start off).
    expect(broker.log()).toMatch(/as boxagent-dev-box \(p5, c0, k1\)/);

    // Frozen, not killed: the TCP connection stays open and only the missing keepalive tells the broker.
    daemon.proc.kill('SIGSTOP');
    cleanups.push(() => void daemon.proc.kill('SIGCONT'));
    await waitFor(
      'the will',
      () => readRetained(broker.port, `${ROOT}/status`).includes('"online":false'),
      15_000,
    );
    expect(retained<StatusMessage>(`${ROOT}/status`).message).toEqual({
      schema: 1,
      online: false,
      box: 'dev-box',
      // The session's site and version, so a fleet view still names them while the box is away.
      site: online.site,
      version: online.version,
      sessionId: online.sessionId,
      since: online.since,
      reason: 'lost',
    });
  }, 30_000);

  it('telemetry is retained: a subscriber that starts after the sample gets it at once', async () => {
    const daemon = await daemonOnBroker();
    await waitFor('fleet link connected', () => connected(daemon), 15_000);
    // The first sample goes out on connect; the default interval (60 s) sends no other during the test.
    await waitFor('a retained telemetry sample', () =>
      readRetained(broker.port, `${ROOT}/telemetry`).includes('"box":"dev-box"'),
    );
    const late = retained<TelemetryMessage>(`${ROOT}/telemetry`);
    expect(late.retained).toBe(true);
    expect(late.message).toMatchObject({ schema: 1, box: 'dev-box' });
    expect(late.message.lastEventSeq).toBeGreaterThan(0);
  }, 30_000);
});

describe('requests to an offline box', () => {
  it('a QoS 1 request published while the daemon is down is answered after it starts, with its idempotency key', async () => {
    // The first start makes the box's persistent session (and its RPC subscription) at the broker.
    const first = await daemonOnBroker();
    await waitFor('fleet link connected', () => connected(first), 15_000);
    const storageDir = first.storageDir;
    expect(await first.stop('SIGTERM')).toBe(0);

    const replies = await subscribed(['fleet/replies/offline'], '%t|%D|%p');
    mosquittoPub(broker.port, `${ROOT}/rpc/devices.get`, '{"id":"printer-1"}', [
      '-V',
      '5',
      '-D',
      'PUBLISH',
      'response-topic',
      'fleet/replies/offline',
      '-D',
      'PUBLISH',
      'correlation-data',
      'req-offline',
      '-D',
      'PUBLISH',
      'message-expiry-interval',
      '300',
      '-D',
      'PUBLISH',
      'user-property',
      'idempotencyKey',
      'key-7',
    ]);
    // Published while nothing of the box runs: no reply can exist yet.
    expect(replies.lines.filter((l) => l.startsWith('fleet/replies/offline|'))).toEqual([]);

    const again = await daemonOnBroker({}, storageDir);
    await waitFor('fleet link connected', () => connected(again), 15_000);
    await waitFor(
      'the reply',
      () => replies.lines.some((l) => l.startsWith('fleet/replies/offline|')),
      15_000,
    );
    const line = replies.lines.find((l) => l.startsWith('fleet/replies/offline|'))!;
    const [, correlation, ...body] = line.split('|');
    expect(correlation).toBe('req-offline');
    const reply = JSON.parse(body.join('|')) as RpcReply;
    expect(reply).toMatchObject({
      schema: 1,
      ok: true,
      idempotencyKey: 'key-7',
      result: { id: 'printer-1', kind: 'printer' },
    });
  }, 60_000);
});
