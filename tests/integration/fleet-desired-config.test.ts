// Issue 18, desired config that cannot wipe a box: the daemon spawned as a process on Debian's mosquitto,
// the fleet a FleetClient. `config` is a merge patch over the installer's config (devices keyed by id): a
// document without `devices` keeps every local device, a patch of one device leaves the others running, a
// device added by the fleet and then left out is refused `implicit-removal` until it is removed with `null`,
// older and same versions are answered `stale` and `unchanged`, a rolled-back version seen again after a
// restart is answered `rolled_back` and not applied again, and config.get and the audit name the signer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReportedConfig } from '../../agent/fleet/config-sync.js';
import { signDesiredConfig } from '../../agent/fleet/config-signing.js';
import type { FleetConfigView } from '../../agent/fleet/fleet-config-state.js';
import { FleetClient } from '../../agent/fleet/operator/fleet-client.js';
import { removeDir, runCli, tempDir, testEnv } from '../helpers/daemon.js';
import { fleetKey, startBox, type Box, type FleetKey } from '../helpers/fleet-boxes.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const BOX = 'box-a';
let broker: Mosquitto;
let dir: string;
let key: FleetKey;
let fleet: FleetClient;
const boxes: Box[] = [];
const reports: ReportedConfig[] = [];

beforeEach(async () => {
  broker = await startMosquitto();
  dir = tempDir();
  key = fleetKey(dir);
  fleet = await FleetClient.connect({ url: broker.url });
  reports.length = 0;
  await fleet.subscribe(fleet.topics(BOX).configReported, (_t, payload) => {
    if (payload.length > 0) reports.push(JSON.parse(payload.toString('utf8')) as ReportedConfig);
  });
});
afterEach(async () => {
  await fleet.close();
  for (const b of boxes.splice(0)) await b.daemon.stop('SIGKILL');
  await broker.dispose();
  removeDir(dir);
});

async function box(): Promise<Box> {
  const b = await startBox(BOX, dir, key, broker.url);
  boxes.push(b);
  return b;
}

/** Publishes a signed desired document (retained) and waits for the box's answer to that version. */
async function desire(version: number, config: unknown): Promise<ReportedConfig> {
  const from = reports.length;
  const doc = signDesiredConfig(key.privateKey, key.keyId, BOX, version, config);
  await fleet.publish(fleet.topics(BOX).configDesired, JSON.stringify(doc), { retain: true });
  return answer(version, from);
}

async function answer(version: number, from: number): Promise<ReportedConfig> {
  const find = () => reports.slice(from).find((r) => r.version === version);
  await waitFor(`the answer to version ${version}`, () => find() !== undefined, 20_000);
  return find()!;
}

async function devices(b: Box): Promise<Record<string, { state: string; name?: string }>> {
  const list = (await (await b.daemon.fetch('/v1/devices')).json()) as {
    devices: { id: string; state: string; name?: string }[];
  };
  return Object.fromEntries(list.devices.map((d) => [d.id, d]));
}

const allReady = async (b: Box, ids: string[]) => {
  const now = await devices(b);
  return ids.every((id) => now[id]?.state === 'ready') && Object.keys(now).length === ids.length;
};

/** Log lines about a device's state after `from` (a device that keeps running logs none). */
const stateLines = (b: Box, from: number, id: string) =>
  b.daemon.logs.slice(from).filter((l) => l.device === id && typeof l.state === 'string');

const simulated = (kind: string) => ({ kind, transport: { type: 'simulated' } });

describe('desired config as a merge patch over the local config', () => {
  it('keeps local devices, leaves unchanged ones running, refuses implicit removal, answers every version', async () => {
    const b = await box();
    await waitFor('local devices ready', () => allReady(b, ['printer-1', 'printer-2', 'seal-1']));

    // No `devices` key: the old wipe. Every local device stays.
    expect(await desire(1, { supervision: { backoffMaxMs: 300 } })).toMatchObject({
      status: 'applied',
      inForce: 1,
      overridden: ['/supervision/backoffMaxMs'],
    });
    await waitFor('local devices ready', () => allReady(b, ['printer-1', 'printer-2', 'seal-1']));

    // One device's setting changed and one added: the others are not restarted.
    const mark = b.daemon.logs.length;
    const v2 = {
      supervision: { backoffMaxMs: 300 },
      devices: { 'printer-1': { name: '窗口一' }, 'seal-2': simulated('seal') },
    };
    expect(await desire(2, v2)).toMatchObject({
      status: 'applied',
      inForce: 2,
      overridden: ['/devices/printer-1/name', '/supervision/backoffMaxMs'],
    });
    await waitFor('all ready', () => allReady(b, ['printer-1', 'printer-2', 'seal-1', 'seal-2']));
    expect((await devices(b))['printer-1']?.name).toBe('窗口一');
    expect(stateLines(b, mark, 'printer-2')).toEqual([]);
    expect(stateLines(b, mark, 'seal-1')).toEqual([]);
    expect(stateLines(b, mark, 'printer-1').length).toBeGreaterThan(0);

    // seal-2 (added by version 2) left out without null: refused, nothing changes.
    const dropped = await desire(3, {
      supervision: { backoffMaxMs: 300 },
      devices: { 'printer-1': { name: '窗口一' } },
    });
    expect(dropped).toMatchObject({ status: 'rejected', reason: 'implicit-removal', inForce: 2 });
    expect(dropped.errors.join('\n')).toMatch(/seal-2.*"seal-2": null/);
    expect(Object.keys(await devices(b))).toContain('seal-2');

    // Removed explicitly (and a local device too): applied.
    expect(
      await desire(3, {
        supervision: { backoffMaxMs: 300 },
        devices: { 'printer-1': { name: '窗口一' }, 'seal-2': null, 'printer-2': null },
      }),
    ).toMatchObject({
      status: 'applied',
      inForce: 3,
      overridden: ['/devices/printer-1/name', '/devices/printer-2', '/supervision/backoffMaxMs'],
    });
    await waitFor('seal-2 and printer-2 gone', () => allReady(b, ['printer-1', 'seal-1']));

    // An older version and the one in force: answered, nothing changes.
    expect(await desire(2, v2)).toMatchObject({ status: 'stale', inForce: 3 });
    expect((await desire(3, { devices: { 'printer-2': null, 'seal-2': null } })).status).toBe('unchanged');
    expect(Object.keys(await devices(b)).sort()).toEqual(['printer-1', 'seal-1']);

    // config.get, signed by the admin key (the box's fleet role is the default `operator`, without admin).
    const unsigned = await fleet.call(BOX, 'config.get', {}, { timeoutMs: 10_000 });
    expect(unsigned).toMatchObject({ ok: false, error: { status: 403 } });
    const got = await fleet.call(BOX, 'config.get', {}, { timeoutMs: 10_000, sign: key });
    if (!got.ok) throw new Error(JSON.stringify(got.error));
    const view = got.result as FleetConfigView;
    expect(view).toMatchObject({ inForce: 3, signedBy: 'city-ops' });
    expect(view.appliedAt).toMatch(/^\d{4}-/);
    expect(Object.keys(view.config.devices as object)).toEqual(['printer-1', 'seal-1']);
    expect(Object.keys(view.local.devices as object)).toEqual(['printer-1', 'printer-2', 'seal-1']);
    expect(view.fleetKeys).toEqual([
      '/devices/printer-1/name',
      '/devices/printer-2',
      '/devices/seal-2',
      '/supervision/backoffMaxMs',
    ]);
    expect(view.overridden).toEqual([
      '/devices/printer-1/name',
      '/devices/printer-2',
      '/supervision/backoffMaxMs',
    ]);

    // Every applied change is in the audit, with the key that signed it.
    const audit = (await (await b.daemon.fetch('/v1/audit')).json()) as {
      entries: {
        actor: string;
        action: string;
        detail: { version: number; keyId: string; changed: string[] };
      }[];
    };
    const applied = audit.entries.filter((e) => e.action === 'config.applied');
    expect(applied.map((e) => e.detail.version)).toEqual([1, 2, 3]);
    expect(applied[2]).toMatchObject({ actor: 'fleet-key:city-ops', detail: { keyId: 'city-ops' } });
    expect(applied[2]?.detail.changed).toEqual(['/devices/printer-2', '/devices/seal-2']);

    // On the box: config show and doctor show the fleet's keys apart and name the local keys it overrides.
    const cliEnv = testEnv(b.daemon.storageDir);
    const shown = runCli(['config', 'show', '-c', b.configFile], cliEnv);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain("with the fleet's desired config version 3 (signed by city-ops");
    expect(shown.stdout).toContain('name: 窗口一 # fleet v3, overrides local: "Local printer"');
    expect(shown.stdout).toContain('backoffMaxMs: 300 # fleet v3, overrides local: 200');
    expect(shown.stdout).toContain('Local keys the fleet removes: /devices/printer-2');
    const effective = JSON.parse(runCli(['config', 'show', '--json', '-c', b.configFile], cliEnv).stdout) as {
      devices: { id: string }[];
    };
    expect(effective.devices.map((d) => d.id)).toEqual(['printer-1', 'seal-1']);
    const fleetPart = JSON.parse(
      runCli(['config', 'show', '--fleet', '-c', b.configFile], cliEnv).stdout,
    ) as FleetConfigView;
    expect(fleetPart.overridden).toEqual(view.overridden);
    const doctor = JSON.parse(runCli(['doctor', '--json', '-c', b.configFile], cliEnv).stdout) as {
      check: string;
      verdict: string;
      detail: string;
    }[];
    expect(doctor.find((r) => r.check === 'fleet config')).toMatchObject({ verdict: 'ok' });
    expect(doctor.find((r) => r.check === 'fleet config')?.detail).toMatch(
      /^version 3 in force \(signed by city-ops\)/,
    );
    const overriddenCheck = doctor.find((r) => r.check === 'local keys overridden');
    expect(overriddenCheck?.verdict).toBe('warn');
    expect(overriddenCheck?.detail).toContain(
      '/devices/printer-1/name (local "Local printer", fleet "窗口一")',
    );
    expect(overriddenCheck?.detail).toContain('/devices/printer-2 (local {');
  }, 120_000);

  it('answers a rolled-back version again after a restart without applying it', async () => {
    const b = await box();
    const closed = await freePort();
    const bad = {
      devices: {
        'net-printer': {
          kind: 'printer',
          transport: { type: 'tcp', host: '127.0.0.1', port: closed, connectTimeoutMs: 200 },
        },
      },
    };
    const first = await desire(4, bad);
    expect(first).toMatchObject({ status: 'rolled_back', reason: 'unhealthy', inForce: 0 });
    expect(first.errors[0]).toMatch(/^device net-printer is /);
    expect(Object.keys(await devices(b))).not.toContain('net-printer');

    // The retained document comes again at the next connect: answered from memory, not tried.
    await b.daemon.stop('SIGTERM');
    boxes.splice(0);
    const from = reports.length;
    const again = await box();
    const second = await answer(4, from);
    expect(second).toMatchObject({
      status: 'rolled_back',
      reason: 'unhealthy',
      inForce: 0,
      errors: first.errors,
    });
    expect(again.daemon.logs.some((l) => l.msg === 'applying desired config')).toBe(false);
    expect(Object.keys(await devices(again))).not.toContain('net-printer');
  }, 120_000);

  it('reads a fleet-config.json kept in the earlier full-sections form', async () => {
    // What an earlier build kept after applying version 5: printer-1 renamed, printer-2 and seal-1 removed.
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    const sections = {
      supervision: { probeIntervalMs: 100, failuresBeforeError: 1, backoffInitialMs: 50, backoffMaxMs: 200 },
      devices: [
        { id: 'printer-1', kind: 'printer', name: 'Fleet printer', transport: { type: 'simulated' } },
      ],
    };
    writeFileSync(join(state, 'fleet-config.json'), JSON.stringify({ version: 5, config: sections }));
    const b = await box();
    await waitFor('printer-1 ready', () => allReady(b, ['printer-1']));
    expect((await devices(b))['printer-1']?.name).toBe('Fleet printer');
    const got = await fleet.call(BOX, 'config.get', {}, { timeoutMs: 10_000, sign: key });
    if (!got.ok) throw new Error(JSON.stringify(got.error));
    expect(got.result).toMatchObject({
      inForce: 5,
      signedBy: null,
      patch: { devices: { 'printer-1': { name: 'Fleet printer' }, 'printer-2': null, 'seal-1': null } },
      overridden: ['/devices/printer-1/name', '/devices/printer-2', '/devices/seal-1'],
    });
    // The next document is a merge patch like any other; printer-2 and seal-1 come back from the local config.
    expect(await desire(6, {})).toMatchObject({ status: 'applied', inForce: 6, overridden: [] });
    await waitFor('local devices back', () => allReady(b, ['printer-1', 'printer-2', 'seal-1']));
  }, 120_000);
});
