// The fleet link through a local mosquitto (Debian's, spawned on a free port):
//   - RPC round trip (MQTT 5 request with responseTopic + correlationData → reply), sequential, p50/p99;
//   - outbox drain rate after an outage: the daemon starts with the broker down and a backlog in the
//     outbox, the broker comes up, and the time until the fleet subscriber has every event is measured;
//   - the daemon's memory while that backlog waits.
import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { EventLog } from '../agent/events/event-log.js';
import { Store } from '../agent/store/store.js';
import { startDaemon, type Daemon } from '../tests/helpers/daemon.js';
import { startMosquitto, type Mosquitto } from '../tests/helpers/mosquitto.js';
import { waitFor } from '../tests/helpers/wait-for.js';
import { selftestDone } from '../tests/helpers/events.js';
import { removeScratchDir, rssMb, scratchDir, stopChild, track } from './children.js';

const ROOT = 'boxagent/v1/dev-box';
const RPC_CALLS = 1000;
const BACKLOG = Number(process.env.BENCH_FLEET_BACKLOG ?? 100_000);

export type RowFn = (metric: string, value: string, notes?: string) => void;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rpcRoundTrips(url: string): Promise<number[]> {
  const client: MqttClient = await connectAsync(url, { protocolVersion: 5 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  try {
    const replyTopic = `bench/replies/${randomUUID()}`;
    const waiting = new Map<string, () => void>();
    client.on('message', (_topic, _payload, packet) => {
      const id = packet.properties?.correlationData?.toString();
      if (id) waiting.get(id)?.();
    });
    await client.subscribeAsync(replyTopic, { qos: 1 });
    const times: number[] = [];
    for (let i = 0; i < RPC_CALLS + 50; i++) {
      const id = String(i);
      const t0 = performance.now();
      const done = new Promise<void>((res) => waiting.set(id, res));
      await client.publishAsync(`${ROOT}/rpc/agent.health`, '{}', {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from(id) },
      });
      await done;
      waiting.delete(id);
      if (i >= 50) times.push(performance.now() - t0); // the first 50 warm up
    }
    return times.sort((a, b) => a - b);
  } finally {
    await client.endAsync();
  }
}

export async function benchFleet(row: RowFn, progress: (msg: string) => void): Promise<void> {
  let broker: Mosquitto | undefined;
  let daemon: Daemon | undefined;
  const storageDir = scratchDir('boxagent-bench-fleet-');
  const env = {
    BOXAGENT_LOG_LEVEL: 'info',
    BOXAGENT_MQTT_RPC_ROLE: 'admin',
    BOXAGENT_MQTT_RECONNECT_MIN_MS: '100',
    BOXAGENT_MQTT_RECONNECT_MAX_MS: '200',
    // Above the backlog, so the bound does not drop the oldest device events during the measurement.
    BOXAGENT_MQTT_OUTBOX_MAX_EVENTS: String(BACKLOG * 2),
  };
  try {
    broker = await startMosquitto();
    const trackBroker = () => {
      const p = broker?.process();
      if (p) track(p, 'mosquitto');
    };
    trackBroker();
    daemon = await startDaemon({ storageDir, env: { ...env, BOXAGENT_MQTT_URL: broker.url } });
    track(daemon.proc, 'boxagent daemon');
    await waitFor('fleet link', () => daemon!.logs.some((l) => l.msg === 'fleet link connected'), 15_000);

    progress(`fleet: ${RPC_CALLS} RPC round trips`);
    const times = await rpcRoundTrips(broker.url);
    const fmt = (n: number) => `${n.toFixed(2)} ms`;
    const notes = `agent.health, MQTT 5 QoS 1 request → reply, sequential, ${RPC_CALLS} calls after 50 warm-up`;
    row('fleet RPC round trip p50', fmt(percentile(times, 50)), notes);
    row('fleet RPC round trip p99', fmt(percentile(times, 99)));

    // The fleet's subscriber: a persistent session, so the broker keeps its subscription across the restart.
    const fleet: MqttClient = await connectAsync(broker.url, {
      protocolVersion: 5,
      clean: false,
      clientId: `bench-fleet-${process.pid}`,
      reconnectPeriod: 100,
      properties: { sessionExpiryInterval: 3600 },
    });
    const seen = new Set<string>();
    fleet.on('message', (_topic, payload) => seen.add((JSON.parse(payload.toString()) as { id: string }).id));
    await fleet.subscribeAsync(`${ROOT}/events`, { qos: 1 });

    progress(`fleet: outage with ${BACKLOG} events waiting`);
    await stopChild(daemon.proc);
    await broker.stop();
    const store = Store.open(storageDir);
    const events = new EventLog(store, 200_000, true);
    store.transaction(() => {
      for (let i = 0; i < BACKLOG; i++) events.publish('selftest.job', selftestDone(`bench-${i}`));
    });
    const waitingBefore = store.outbox.unsentSummary().count;
    daemon = await startDaemon({ storageDir, env: { ...env, BOXAGENT_MQTT_URL: broker.url } });
    track(daemon.proc, 'boxagent daemon');
    await new Promise((r) => setTimeout(r, 3000));
    row(
      `daemon RSS with ${waitingBefore} events waiting`,
      `${rssMb(daemon.proc.pid)?.toFixed(1) ?? 'n/a'} MB`,
      'broker down, 3 s after ready',
    );

    const before = seen.size;
    const t0 = performance.now();
    await broker.start();
    trackBroker();
    const ticker = setInterval(
      () =>
        progress(
          `fleet: ${seen.size - before} of ${waitingBefore} at the subscriber, ${store.outbox.unsentSummary().count} unsent`,
        ),
      5000,
    );
    try {
      await waitFor('the backlog at the fleet', () => seen.size - before >= waitingBefore, 600_000);
    } finally {
      clearInterval(ticker);
    }
    const seconds = (performance.now() - t0) / 1000;
    await fleet.endAsync();
    row(
      'fleet outbox drain after an outage',
      `${Math.round(waitingBefore / seconds)} events/s`,
      `${waitingBefore} events, broker start → all at a QoS 1 subscriber; RSS after ${rssMb(daemon.proc.pid)?.toFixed(1) ?? 'n/a'} MB`,
    );
    store.close();
  } finally {
    if (daemon) await stopChild(daemon.proc);
    await broker?.dispose();
    removeScratchDir(storageDir);
  }
}
