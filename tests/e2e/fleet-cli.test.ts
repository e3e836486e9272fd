// `boxagent fleet` as the city operator uses it: Debian's mosquitto loaded with the shipped config and ACL
// (deploy/mosquitto/), three boxes as daemons (box-1..3) each logged in as its own user, and the CLI run as a
// process. Boxes are listed with their state, calls answer (a signed operation refused unsigned), events
// arrive once each across a broker restart and gaps are fetched, alerts are raised and cleared once, and
// one box's credentials cannot reach another box's topics.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoxView } from '../../agent/cli/fleet/boxes-command.js';
import { postJson, removeDir, tempDir, type Daemon } from '../helpers/daemon.js';
import {
  fleetConnected,
  followEvents,
  operatorArgs,
  passwordOf,
  runFleet,
  shippedBroker,
  startBox,
} from '../helpers/fleet-cli.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let broker: Mosquitto;
let boxes: Daemon[];
let op: string[];
let publicKey: string;

interface EventLine {
  id: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

beforeAll(async () => {
  dir = tempDir('boxagent-fleet-cli-');
  broker = await startMosquitto(shippedBroker(['box-1', 'box-2', 'box-3', 'box-4', 'operator']));
  op = operatorArgs(broker.url, dir);
  const keys = await runFleet(['keys', 'create', 'ops', '--dir', dir]);
  expect(keys.status, keys.stderr).toBe(0);
  publicKey = readFileSync(join(dir, 'ops.pub'), 'utf8').trim();
  // What the command printed is what goes into the box config.
  expect(keys.stdout).toContain(`ops:\n        publicKey: ${publicKey}\n        role: admin`);
  const signing = JSON.stringify({ ops: { publicKey, role: 'admin' } });
  boxes = await Promise.all(
    ['box-1', 'box-2', 'box-3'].map((id) =>
      startBox(id, broker.url, dir, {
        BOXAGENT_MQTT_SIGNING_KEYS: signing,
        BOXAGENT_MQTT_TELEMETRY_INTERVAL_SECONDS: '2',
        BOXAGENT_ALERTS_DEVICE_NOT_READY_SECONDS: '2',
      }),
    ),
  );
  await waitFor('three fleet links', () => boxes.every(fleetConnected), 20_000);
}, 60_000);

afterAll(async () => {
  await Promise.all((boxes ?? []).map((b) => b.stop('SIGKILL')));
  for (const b of boxes ?? []) removeDir(b.storageDir);
  await broker?.dispose();
  removeDir(dir);
});

const box = (id: string): Daemon => boxes[Number(id.slice(-1)) - 1] as Daemon;
const simulate = async (id: string, device: string, fault: string): Promise<void> => {
  const r = await box(id).fetch(`/v1/devices/${device}/simulator`, postJson({ fault }));
  expect(r.status).toBe(200);
};

async function listEvents(id: string, after = 0): Promise<EventLine[]> {
  const r = await runFleet(['events', id, '--after', String(after), '--json', ...op]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EventLine);
}

/** `n` consecutive seqs from `from`: every event once, in order. */
const run = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

async function boxesJson(): Promise<BoxView[]> {
  const r = await runFleet(['boxes', '--json', ...op]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BoxView[];
}

describe('fleet keys', () => {
  it('writes a 0600 private key, prints pure JSON with --json, and never overwrites without --force', async () => {
    const made = await runFleet(['keys', 'create', 'second', '--dir', dir, '--json']);
    expect(made.status, made.stderr).toBe(0);
    const out = JSON.parse(made.stdout) as { keyId: string; publicKey: string; privateKeyFile: string };
    expect(out).toMatchObject({
      keyId: 'second',
      publicKey: readFileSync(join(dir, 'second.pub'), 'utf8').trim(),
    });
    expect(Buffer.from(out.publicKey, 'base64')).toHaveLength(32);
    expect(statSync(out.privateKeyFile).mode & 0o777).toBe(0o600);
    const again = await runFleet(['keys', 'create', 'second', '--dir', dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists; --force replaces them\n$/);
  });
});

describe('fleet call', () => {
  it('prints the result, and an error reply as one line with a non-zero exit', async () => {
    const ok = await runFleet(['call', 'box-2', 'devices.list', ...op]);
    expect(ok.status, ok.stderr).toBe(0);
    const ids = (JSON.parse(ok.stdout) as { devices: { id: string }[] }).devices.map((d) => d.id);
    expect(ids).toContain('printer-1');

    const bad = await runFleet([
      'call',
      'box-2',
      'devices.get',
      '--params',
      '{"id":"no-such-device"}',
      '--locale',
      'en',
      ...op,
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^boxagent: box-2 devices\.get: .*no-such-device.*\[404\]\n$/);

    const json = await runFleet([
      'call',
      'box-2',
      'devices.get',
      '--params',
      '{"id":"nope"}',
      '--json',
      ...op,
    ]);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { status: 404 } });

    const wrong = join(dir, 'operator-wrong.password');
    writeFileSync(wrong, 'guess\n');
    const refused = await runFleet(['call', 'box-2', 'agent.health', ...op, '--password-file', wrong]);
    expect(refused.status).toBe(69);
    expect(refused.stderr).toMatch(/^boxagent: broker mqtt:\/\/127\.0\.0\.1:\d+: .*not authori[sz]ed\n$/i);

    const notJson = await runFleet(['call', 'box-2', 'devices.get', '--params', '{id:', ...op]);
    expect(notJson.status).toBe(64);
    expect(notJson.stderr).toMatch(/^boxagent: --params is not JSON/);
  });

  it('refuses an operation that needs a signature unsigned, and runs it signed', async () => {
    const unsigned = await runFleet(['call', 'box-1', 'audit.list', '--locale', 'en', ...op]);
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toMatch(/^boxagent: box-1 audit\.list: .*sign/i);
    const signed = await runFleet(['call', 'box-1', 'audit.list', '--sign', join(dir, 'ops.key'), ...op]);
    expect(signed.status, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout)).toHaveProperty('entries');
  });
});

describe('alerts', () => {
  it('raises device-not-ready once after alerts.deviceNotReadySeconds and clears it once', async () => {
    const start = (await listEvents('box-1')).at(-1)?.seq ?? 0;
    await simulate('box-1', 'seal-1', 'offline');
    await waitFor(
      'alert.raised',
      async () => (await listEvents('box-1', start)).some((e) => e.type === 'alert.raised'),
      15_000,
    );
    // How long it is in its state shows in `fleet boxes` (telemetry deviceSince).
    const view = (await boxesJson()).find((b) => b.box === 'box-1');
    expect(view?.devices.find((d) => d.id === 'seal-1')).toMatchObject({
      state: expect.not.stringMatching(/^(ready|busy)$/) as unknown,
      seconds: expect.any(Number) as unknown,
    });
    await simulate('box-1', 'seal-1', 'none');
    await waitFor(
      'alert.cleared',
      async () => (await listEvents('box-1', start)).some((e) => e.type === 'alert.cleared'),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2500)); // another check or two: nothing more is raised
    const alerts = (await listEvents('box-1', start)).filter((e) => e.type.startsWith('alert.'));
    expect(alerts.map((e) => [e.type, e.payload.alert, e.payload.deviceId])).toEqual([
      ['alert.raised', 'device-not-ready', 'seal-1'],
      ['alert.cleared', 'device-not-ready', 'seal-1'],
    ]);
    expect(alerts[0]?.payload.since).toBe(alerts[1]?.payload.since);
  }, 40_000);

  it('raises outbox-growing while a box cannot log in, and clears it once when a restart lets it drain', async () => {
    const wrong = join(dir, 'wrong.password');
    writeFileSync(wrong, 'not-the-password\n');
    const env = { BOXAGENT_ALERTS_OUTBOX_DEPTH: '1', BOXAGENT_ALERTS_OUTBOX_AGE_SECONDS: '3600' };
    // Refused by the broker: its start-up device events stay in the outbox.
    const locked = await startBox('box-4', broker.url, dir, { ...env, BOXAGENT_MQTT_PASSWORD_FILE: wrong });
    try {
      await waitFor('outbox-growing', () => locked.logs.some((l) => l.msg === 'alert raised'), 15_000);
    } finally {
      expect(await locked.stop('SIGTERM')).toBe(0);
    }
    // Restarted with its password: the raised alert is remembered, and cleared once the outbox drains.
    const fixed = await startBox('box-4', broker.url, dir, env, locked.storageDir);
    try {
      await waitFor('the alert cleared', () => fixed.logs.some((l) => l.msg === 'alert cleared'), 20_000);
      const alerts = (await listEvents('box-4')).filter((e) => e.type.startsWith('alert.'));
      expect(alerts.map((e) => [e.type, e.payload.alert])).toEqual([
        ['alert.raised', 'outbox-growing'],
        ['alert.cleared', 'outbox-growing'],
      ]);
      expect(fixed.logs.some((l) => l.msg === 'alert raised')).toBe(false);
    } finally {
      await fixed.stop('SIGTERM');
      removeDir(fixed.storageDir);
    }
  }, 60_000);
});

describe('fleet events', () => {
  it('follows once each across a broker restart, resumes its session, and fetches a gap with --after', async () => {
    const follower = followEvents(['box-2', '--client-id', 'ops-follow-box-2', ...op]);
    const got = (): EventLine[] => follower.lines.map((l) => JSON.parse(l) as EventLine);
    try {
      await follower.following;
      await simulate('box-2', 'camera-1', 'offline');
      await waitFor('the first event', () => got().length > 0, 15_000);

      await broker.stop();
      await simulate('box-2', 'camera-1', 'none'); // while the broker is down: the box's outbox keeps it
      await broker.start();
      await simulate('box-2', 'printer-1', 'offline');
      await simulate('box-2', 'printer-1', 'none');
      let last = 0;
      await waitFor(
        'every event of box-2 after the first',
        async () => {
          last = (await listEvents('box-2')).at(-1)?.seq ?? 0;
          return (got().at(-1)?.seq ?? 0) >= last;
        },
        20_000,
      );
      const first = got()[0]?.seq ?? 0;
      expect(got().map((e) => e.seq)).toEqual(run(first, got().length));
      expect(got().length).toBeGreaterThanOrEqual(last - first + 1);
      expect(new Set(got().map((e) => e.id)).size).toBe(got().length);

      // Away with its session kept: the broker holds what comes meanwhile.
      await follower.stop();
      const printed = got().at(-1)?.seq ?? 0;
      await simulate('box-2', 'printer-1', 'offline');
      const resumed = followEvents(['box-2', '--client-id', 'ops-follow-box-2', ...op]);
      try {
        await resumed.following;
        await waitFor('the queued event', () => resumed.lines.length > 0, 15_000);
        expect((JSON.parse(resumed.lines[0] as string) as EventLine).seq).toBe(printed + 1);
      } finally {
        await resumed.stop();
      }

      // A new session (nothing queued for it) started --after a lower seq: the gap comes from events.list.
      await simulate('box-2', 'printer-1', 'none');
      const fresh = followEvents([
        'box-2',
        '--client-id',
        'ops-follow-box-2-new',
        '--after',
        String(first),
        ...op,
      ]);
      try {
        const now = (await listEvents('box-2')).at(-1)?.seq ?? 0;
        await waitFor('the gap fetched', () => fresh.lines.length >= now - first, 15_000);
        const seqs = fresh.lines.map((l) => (JSON.parse(l) as EventLine).seq);
        expect(seqs).toEqual(run(first + 1, seqs.length));
      } finally {
        await fresh.stop();
      }
    } finally {
      await follower.stop();
    }
  }, 90_000);
});

describe('per-box credentials and the shipped ACL', () => {
  it("keeps box-2's login off box-1's topics while every box works under its own", async () => {
    const intruder = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      username: 'box-2',
      password: passwordOf('box-2'),
      clientId: 'intruder-box-2',
    });
    try {
      const received: string[] = [];
      intruder.on('message', (topic) => received.push(topic));
      await intruder.subscribeAsync('boxagent/v1/box-1/rpc/#', { qos: 1 });
      // A forged offline status for box-1: the broker refuses it (PUBACK "not authorized").
      await expect(
        intruder.publishAsync(
          'boxagent/v1/box-1/status',
          JSON.stringify({ schema: 1, online: false, box: 'box-1', reason: 'stopped' }),
          { qos: 1, retain: true },
        ),
      ).rejects.toThrow(/not authori[sz]ed/i);
      // box-1 still answers as itself, and its request never reached box-2's login.
      const call = await runFleet(['call', 'box-1', 'agent.health', ...op]);
      expect(call.status, call.stderr).toBe(0);
      expect(received).toEqual([]);
      const views = await boxesJson();
      expect(views.find((v) => v.box === 'box-1')).toMatchObject({ online: true });
    } finally {
      await intruder.endAsync();
    }
  });
});

describe('fleet boxes', () => {
  it('lists every box online with version, site, devices and outbox; a stopped one offline with last seen', async () => {
    // box-4 (the alerts test) is offline by now.
    const views = (await boxesJson()).filter((v) => v.box !== 'box-4');
    expect(views.map((v) => v.box)).toEqual(['box-1', 'box-2', 'box-3']);
    for (const v of views) {
      expect(v).toMatchObject({
        online: true,
        version: expect.any(String) as unknown,
        site: `Site of ${v.box}`,
      });
      expect(v.devices.map((d) => d.id)).toContain('printer-1');
      expect(v.devices.every((d) => typeof d.since === 'string')).toBe(true);
      expect(v.outbox?.depth).toEqual(expect.any(Number));
    }
    expect(await box('box-3').stop('SIGTERM')).toBe(0);
    const after = (await boxesJson()).find((v) => v.box === 'box-3');
    expect(after).toMatchObject({ online: false, version: views[2]?.version, site: 'Site of box-3' });
    expect(Date.parse(after?.lastSeen ?? '')).toBeGreaterThan(Date.now() - 60_000);

    const table = await runFleet(['boxes', ...op]);
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^BOX\s+STATE\s+VERSION\s+SITE\s+OUTBOX\s+DEVICES$/);
    expect(lines.find((l) => l.startsWith('box-3'))).toMatch(/offline, last seen \d{4}-/);
    expect(lines.find((l) => l.startsWith('box-1'))).toMatch(/online .*printer-1 ready \d+/);
  });
});
