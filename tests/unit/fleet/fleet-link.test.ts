// The fleet link against a real in-process MQTT broker (aedes, MQTT 3.1.1 only, so the box runs with
// protocolVersion 4 here; MQTT 5 is covered against mosquitto in tests/integration/fleet-mosquitto.test.ts).
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  EventMessage,
  RpcReply,
  StatusMessage,
  TelemetryMessage,
} from '../../../agent/fleet/contract.js';
import { FleetLink } from '../../../agent/fleet/fleet-link.js';
import { Dispatcher } from '../../../agent/operations/dispatch.js';
import { PROBLEM_BASE } from '../../../agent/problems/registry.js';
import { startBroker } from '../../helpers/aedes-broker.js';
import { buildServices, type TestServices } from '../../helpers/fleet-services.js';
import { waitFor } from '../../helpers/wait-for.js';
import { selftestDone } from '../../helpers/events.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

function boxYaml(url: string, role = 'admin'): string {
  return `
box: { id: box-1, site: Test hall }
mqtt:
  url: ${url}
  protocolVersion: 4
  reconnectMinMs: 50
  reconnectMaxMs: 200
  telemetryIntervalSeconds: 1
  rpcRole: ${role}
  # Roles and audit are tested here on unsigned requests; signing is request-signing.test.ts's.
  signing: { required: [] }
devices:
  - { id: printer-1, kind: printer, transport: { type: simulated } }
`;
}

async function setup(opts: { role?: string; brokerDown?: boolean } = {}) {
  const broker = await startBroker();
  cleanups.push(() => broker.stop());
  if (opts.brokerDown) await broker.stop();
  const t: TestServices = buildServices(boxYaml(broker.url, opts.role));
  cleanups.push(() => t.close());
  const link = new FleetLink(t.services, new Dispatcher());
  cleanups.push(() => link.stop());
  return { broker, t, link, root: 'boxagent/v1/box-1' };
}

/** A fleet-side peer subscribed to `filter`, collecting messages. */
async function peer(url: string, filter: string) {
  const client: MqttClient = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 50 });
  cleanups.push(() => client.endAsync());
  const messages: { topic: string; json: unknown; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, json: JSON.parse(payload.toString()) as unknown, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

describe('status and Last Will', () => {
  it('publishes a retained online status on connect and offline with the same session on a graceful stop', async () => {
    const { broker, link, root } = await setup();
    link.start();
    await waitFor('connected', () => link.connected);
    const fleet = await peer(broker.url, `${root}/status`);
    await waitFor('retained status', () => fleet.messages.length > 0);
    const online = fleet.messages[0]!;
    expect(online.retain).toBe(true);
    const status = online.json as Extract<StatusMessage, { online: true }>;
    expect(status).toMatchObject({
      schema: 1,
      online: true,
      box: 'box-1',
      site: 'Test hall',
      version: '0.0.0-test',
    });
    expect(status.devices.total).toBe(1);
    expect(status.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    await link.stop();
    await waitFor('offline status', () =>
      fleet.messages.some((m) => (m.json as StatusMessage).online === false),
    );
    const offline = fleet.messages.find((m) => (m.json as StatusMessage).online === false)!
      .json as StatusMessage;
    expect(offline).toMatchObject({ online: false, reason: 'stopped', sessionId: status.sessionId });
  });

  it('leaves a Last Will naming the lost session, and reconnects as a new session', async () => {
    const { broker, link, root } = await setup();
    link.start();
    await waitFor('connected', () => link.connected);
    const fleet = await peer(broker.url, `${root}/status`);
    await waitFor('online', () => fleet.messages.length > 0);
    const first = fleet.messages[0]!.json as Extract<StatusMessage, { online: true }>;

    // The box's connection dies without a DISCONNECT (a cut link): the broker publishes its will.
    broker.dropClient('boxagent-box-1');
    await waitFor('will and a new online status', () => {
      const all = fleet.messages.map((m) => m.json as StatusMessage);
      return all.some((s) => !s.online && s.reason === 'lost') && all.filter((s) => s.online).length >= 2;
    });
    const all = fleet.messages.map((m) => m.json as StatusMessage);
    const will = all.find((s) => !s.online)!;
    expect(will).toMatchObject({ online: false, reason: 'lost', sessionId: first.sessionId });
    const again = all.filter((s) => s.online).at(-1)!;
    expect(again.sessionId).not.toBe(first.sessionId);
  });

  it('starts with the broker down, keeps the events, and connects when the broker comes up', async () => {
    const { broker, link, t, root } = await setup({ brokerDown: true });
    link.start();
    t.services.events.publish('selftest.job', selftestDone('j-1'));
    await new Promise((r) => setTimeout(r, 300));
    expect(link.connected).toBe(false);
    expect(t.services.store.outbox.unsentSummary().count).toBeGreaterThan(0);

    await broker.start();
    await waitFor('connected', () => link.connected, 10_000);
    await waitFor('the event reached the broker', () =>
      broker.received.some((p) => p.topic === `${root}/events` && p.payload.includes('"selftest.job"')),
    );
    await waitFor('outbox drained', () => t.services.store.outbox.unsentSummary().count === 0);
    expect(t.logs.some((l) => l.msg === 'fleet broker error' && l.level === 40)).toBe(true);
  });
});

describe('durable events', () => {
  it('marks an event sent only when the broker acknowledges it', async () => {
    // The broker holds its PUBACK for events until released (aedes acknowledges after authorizePublish).
    const held: (() => void)[] = [];
    const broker = await startBroker({
      authorizePublish: (_client, packet, done) => {
        if (packet.topic.endsWith('/events')) held.push(() => done(null));
        else done(null);
      },
    });
    cleanups.push(() => broker.stop());
    const t = buildServices(boxYaml(broker.url));
    cleanups.push(() => t.close());
    const link = new FleetLink(t.services, new Dispatcher());
    cleanups.push(() => link.stop());
    for (let i = 0; i < 5; i++) t.services.events.publish('selftest.job', selftestDone(`j-${i}`));
    const waiting = t.services.store.outbox.unsentSummary().count;
    link.start();
    await waitFor('the events at the broker', () => held.length >= waiting);
    await new Promise((r) => setTimeout(r, 200));
    const unsentJobs = () =>
      t.services.store.outbox.unsentAfter(0, 1000).filter((e) => e.type === 'selftest.job').length;
    expect(unsentJobs()).toBe(5);
    for (const release of held.splice(0)) release();
    await waitFor(
      'acknowledged events marked sent',
      () => t.services.store.outbox.unsentSummary().count === 0,
    );
  });

  it('publishes every event in seq order, marks rows sent only after PUBACK, and resumes after a broker restart', async () => {
    const { broker, link, t, root } = await setup();
    const total = 3000;
    // The first half waits in the outbox before the link starts (the box was offline).
    t.services.store.transaction(() => {
      for (let i = 0; i < total / 2; i++) t.services.events.publish('selftest.job', selftestDone(`j-${i}`));
    });
    link.start();
    await waitFor(
      'some events out',
      () => broker.received.filter((p) => p.topic === `${root}/events`).length > 200,
    );
    await broker.stop();
    // The second half is made while the broker is away.
    for (let i = total / 2; i < total; i++) t.services.events.publish('selftest.job', selftestDone(`j-${i}`));
    await new Promise((r) => setTimeout(r, 200));
    expect(t.services.store.outbox.unsentSummary().count).toBeGreaterThan(0);
    await broker.start();
    await waitFor('all acknowledged', () => t.services.store.outbox.unsentSummary().count === 0, 20_000);

    const events = broker.received
      .filter((p) => p.topic === `${root}/events`)
      .map((p) => JSON.parse(p.payload) as EventMessage);
    // QoS 1 is at-least-once: a message in flight when the broker went away may arrive twice (same id).
    const firstSeen = new Map<string, EventMessage>();
    for (const e of events) if (!firstSeen.has(e.id)) firstSeen.set(e.id, e);
    const unique = [...firstSeen.values()];
    const jobs = unique.filter((e) => e.type === 'selftest.job');
    expect(jobs.map((e) => (e.payload as { job: string }).job)).toEqual(
      [...Array(total).keys()].map((i) => `j-${i}`),
    );
    expect(unique.map((e) => e.seq)).toEqual([...unique.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events.length - unique.length).toBeLessThanOrEqual(200);
  });
});

describe('RPC (MQTT 3.1.1 envelope)', () => {
  async function rpcSetup(role?: string) {
    const s = await setup({ role });
    s.link.start();
    await waitFor('connected', () => s.link.connected);
    const fleet = await peer(s.broker.url, 'fleet/replies/#');
    let n = 0;
    const call = async (op: string, body: string | object): Promise<RpcReply | undefined> => {
      const id = `r${++n}`;
      const payload =
        typeof body === 'string' ? body : JSON.stringify({ id, replyTo: `fleet/replies/${id}`, ...body });
      await fleet.client.publishAsync(`${s.root}/rpc/${op}`, payload, { qos: 1 });
      if (typeof body === 'string') return undefined;
      await waitFor(`reply ${id}`, () => fleet.messages.some((m) => m.topic === `fleet/replies/${id}`));
      return fleet.messages.find((m) => m.topic === `fleet/replies/${id}`)!.json as RpcReply;
    };
    return { ...s, fleet, call };
  }

  it('runs an operation of the catalog and replies with its result and the request id', async () => {
    const { call } = await rpcSetup();
    const reply = await call('agent.info', { params: {} });
    expect(reply).toMatchObject({
      schema: 1,
      id: 'r1',
      ok: true,
      result: { box: { id: 'box-1' }, fleetLink: true },
    });
  });

  it("echoes the envelope's idempotencyKey in the reply", async () => {
    const { call } = await rpcSetup();
    const reply = await call('agent.info', { params: {}, idempotencyKey: 'key-3' });
    expect(reply).toMatchObject({ id: 'r1', ok: true, idempotencyKey: 'key-3' });
    const without = await call('agent.info', { params: {} });
    expect(without && 'idempotencyKey' in without).toBe(false);
  });

  it('sends a file answer (the print preview) as base64 with its content type', async () => {
    const { call } = await rpcSetup();
    const reply = await call('print.preview', {
      params: {
        printer: 'printer-1',
        document: { page: { size: 'A5' }, items: [{ type: 'text', xMm: 10, yMm: 10, text: '预览' }] },
      },
    });
    expect(reply).toMatchObject({ ok: true, result: { contentType: 'image/png' } });
    const png = Buffer.from((reply as { result: { base64: string } }).result.base64, 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('answers errors in box.locale (zh-CN), or in the language the envelope asks for', async () => {
    const { call } = await rpcSetup();
    const zh = await call('devices.get', { params: { id: 'printer-9' } });
    expect(zh).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}not-found`, title: '找不到所请求的对象', detail: '没有设备“printer-9”' },
    });
    const en = await call('devices.get', { params: { id: 'printer-9' }, locale: 'en' });
    expect(en).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}not-found`, title: 'No such resource', detail: 'no device "printer-9"' },
    });
  });

  it('answers bad requests with the same problem types as HTTP, logs a warning, and keeps serving', async () => {
    const { call, t } = await rpcSetup();
    expect(await call('no.such.op', { params: {} })).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}not-found`, status: 404 },
    });
    expect(await call('devices.get', { params: { id: 'printer-1', extra: 1 } })).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}invalid-request`, field: '/extra' },
    });
    expect(await call('devices.get', { params: 'x' })).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}invalid-request`, field: '/params' },
    });
    expect(await call('agent.info', { params: {}, expiresAt: '2000-01-01T00:00:00Z' })).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}request-expired` },
    });
    // No reply address: nothing can be answered, only logged.
    await call('agent.info', '{not json');
    await call('agent.info', JSON.stringify({ params: {} }));
    await waitFor('warnings logged', () => t.logs.filter((l) => l.msg === 'rpc rejected').length >= 6);
    expect(await call('devices.get', { params: { id: 'printer-1' } })).toMatchObject({
      ok: true,
      result: { id: 'printer-1', kind: 'printer' },
    });
  });

  it('sends the audit entry an operation writes as an event', async () => {
    const { call, broker, root } = await rpcSetup();
    expect(await call('devices.simulate', { params: { id: 'printer-1', fault: 'offline' } })).toMatchObject({
      ok: true,
    });
    await waitFor('the audit event at the broker', () =>
      broker.received.some((p) => p.topic === `${root}/events` && p.payload.includes('"audit.entry"')),
    );
    const event = broker.received
      .filter((p) => p.topic === `${root}/events`)
      .map((p) => JSON.parse(p.payload) as EventMessage)
      .find((e) => e.type === 'audit.entry')!;
    expect(event.payload).toMatchObject({
      actor: 'fleet:admin',
      action: 'device.simulate',
      target: 'printer-1',
    });
  });

  it('gives requests the scopes of the configured fleet role', async () => {
    const { call } = await rpcSetup('viewer');
    expect(await call('devices.simulate', { params: { id: 'printer-1', fault: 'absent' } })).toMatchObject({
      ok: false,
      error: { type: `${PROBLEM_BASE}forbidden`, status: 403 },
    });
    expect(await call('devices.list', { params: {} })).toMatchObject({ ok: true });
  });
});

describe('telemetry', () => {
  it('publishes host health, device states, job counts, the outbox backlog and the audit head', async () => {
    const { broker, t: box, link, root } = await setup();
    const audited = box.services.store.audit.append({ actor: 'test', action: 'token.create' });
    link.start();
    const fleet = await peer(broker.url, `${root}/telemetry`);
    await waitFor('telemetry', () => fleet.messages.length > 0, 5000);
    const t = fleet.messages[0]!.json as TelemetryMessage;
    expect(t).toMatchObject({ schema: 1, box: 'box-1' });
    expect(t.cpu.cores).toBeGreaterThan(0);
    expect(t.memory.totalBytes).toBeGreaterThan(0);
    expect(t.disk?.freeBytes).toBeGreaterThan(0);
    expect(Object.keys(t.devices)).toEqual(['printer-1']);
    expect(t.outbox).toMatchObject({ droppedSinceStart: 0 });
    expect(typeof t.outbox.depth).toBe('number');
    expect(t.auditHead).toEqual({ seq: audited.seq, hash: audited.hash });
    expect(t.lastEventSeq).toBe(box.services.events.lastSeq());
  });
});
