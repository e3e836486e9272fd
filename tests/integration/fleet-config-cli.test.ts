// `boxagent fleet config get|push` (the built CLI as a process) against Debian's mosquitto and three daemons
// spawned as processes: get reads the config in force, push shows the diff, refuses a device removal without
// --allow-removal (publishing nothing), waits for the box to apply, and --all goes one box first, then the
// rest, stopping at the first box that does not apply it (box-b, whose printer-2 cannot come up: rolled back)
// so box-c is never touched.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetConfigView } from '../../agent/fleet/fleet-config-state.js';
import { FleetClient } from '../../agent/fleet/operator/fleet-client.js';
import { removeDir, runCliAsync, tempDir } from '../helpers/daemon.js';
import { fleetKey, startBox, type Box, type FleetKey } from '../helpers/fleet-boxes.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

let broker: Mosquitto;
let root: string;
let key: FleetKey;
let fleet: FleetClient;
const boxes: Box[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  root = tempDir();
  key = fleetKey(root);
  const closed = await freePort();
  boxes.push(await startBox('box-a', join(root, 'a'), key, broker.url));
  // box-b's printer-2 points at a port nobody listens on: any change to it is rolled back.
  const unreachable = `{ type: tcp, host: 127.0.0.1, port: ${closed}, connectTimeoutMs: 200 }`;
  boxes.push(await startBox('box-b', join(root, 'b'), key, broker.url, unreachable));
  boxes.push(await startBox('box-c', join(root, 'c'), key, broker.url));
  fleet = await FleetClient.connect({ url: broker.url });
}, 90_000);
afterAll(async () => {
  await fleet?.close();
  for (const b of boxes) await b.daemon.stop('SIGKILL');
  await broker?.dispose();
  removeDir(root);
});

const env = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: root,
  BOXAGENT_FLEET_BROKER: broker.url,
});
const cli = (...args: string[]) => runCliAsync(['fleet', 'config', ...args], env());

function patchFile(name: string, text: string): string {
  const file = join(root, name);
  writeFileSync(file, text);
  return file;
}

async function inForce(box: string): Promise<FleetConfigView> {
  const reply = await fleet.call(box, 'config.get', {}, { sign: key, timeoutMs: 10_000 });
  if (!reply.ok) throw new Error(JSON.stringify(reply.error));
  return reply.result as FleetConfigView;
}

const retainedDesired = async (box: string) => fleet.retained([fleet.topics(box).configDesired]);

describe('boxagent fleet config', () => {
  it('get prints the config in force; without an admin key the box refuses', async () => {
    const got = await cli('get', 'box-a', '--sign', key.file, '--json');
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const view = JSON.parse(got.stdout) as FleetConfigView;
    expect(view).toMatchObject({ inForce: 0, signedBy: null, fleetKeys: [], overridden: [] });
    expect(Object.keys(view.local.devices as object)).toEqual(['printer-1', 'printer-2', 'seal-1']);

    const unsigned = await cli('get', 'box-a');
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toMatch(/--sign/);
  }, 30_000);

  it('refuses to remove a device without --allow-removal, publishing nothing', async () => {
    const file = patchFile('remove.yaml', 'devices:\n  printer-2: null\n');
    const r = await cli('push', 'box-a', file, '--sign', key.file, '--yes');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/remove device printer-2.*--allow-removal/);
    expect((await retainedDesired('box-a')).size).toBe(0);
    expect((await inForce('box-a')).inForce).toBe(0);
  }, 30_000);

  it('push shows the diff and returns once the box has applied it', async () => {
    const file = patchFile('rename.yaml', 'devices:\n  printer-1:\n    name: 窗口一\n');
    const r = await cli('push', 'box-a', file, '--sign', key.file, '--yes');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('~ /devices/printer-1/name: "Local printer" → "窗口一"');
    expect(r.stdout).toContain('box-a: applied');
    // Returned after the answer: the version is in force already.
    expect(await inForce('box-a')).toMatchObject({
      inForce: 1,
      signedBy: 'city-ops',
      overridden: ['/devices/printer-1/name'],
    });
  }, 60_000);

  it('--all: one box first, then the rest, stopping at the first that does not apply it', async () => {
    const file = patchFile(
      'printer-2.json',
      JSON.stringify({ devices: { 'printer-2': { name: 'Counter 2' } } }),
    );
    const r = await cli('push', '--all', file, '--sign', key.file, '--yes');
    expect(r.status).toBe(1);
    const out = r.stdout;
    expect(out).toContain('boxes: box-a, box-b, box-c (box-a first');
    expect(out).toContain('box-a: version 2 published');
    expect(out).toContain('box-a: applied');
    expect(out).toContain('box-b: rolled_back (unhealthy)');
    expect(out).toContain('stopped: not pushed to box-c');
    expect(out.indexOf('box-a: applied')).toBeLessThan(out.indexOf('box-b: version 1 published'));
    expect(r.stderr).toMatch(/box-b: rolled_back \(unhealthy\): device printer-2 is/);
    expect((await inForce('box-a')).inForce).toBe(2);
    expect((await inForce('box-b')).inForce).toBe(0);
    // box-c: nothing published, nothing changed.
    expect((await retainedDesired('box-c')).size).toBe(0);
    expect((await inForce('box-c')).inForce).toBe(0);
    expect(boxes[2]?.daemon.logs.some((l) => l.msg === 'applying desired config')).toBe(false);
  }, 90_000);

  it('removes a device with --allow-removal', async () => {
    const file = patchFile(
      'remove-seal.yaml',
      'devices:\n  printer-2: { name: Counter 2 }\n  seal-1: null\n',
    );
    const r = await cli('push', 'box-a', file, '--sign', key.file, '--yes', '--allow-removal');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/- \/devices\/seal-1 \(removed/);
    const view = await inForce('box-a');
    expect(view.inForce).toBe(3);
    expect(Object.keys(view.config.devices as object)).toEqual(['printer-1', 'printer-2']);
  }, 60_000);

  it('checks a patch before publishing it, and removes devices the file leaves out only when allowed', async () => {
    const desiredVersion = async () => {
      const raw = (await retainedDesired('box-a')).values().next().value;
      return raw ? (JSON.parse(raw.toString('utf8')) as { version: number }).version : 0;
    };
    const before = await desiredVersion();
    const invalid = patchFile('invalid.yaml', 'devices:\n  printer-1: { kind: toaster }\n');
    const refused = await cli('push', 'box-a', invalid, '--sign', key.file, '--yes');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/config\.devices\.printer-1/);
    expect(await desiredVersion()).toBe(before);

    const added = patchFile(
      'add.yaml',
      'devices:\n  seal-9: { kind: seal, transport: { type: simulated } }\n',
    );
    expect((await cli('push', 'box-a', added, '--sign', key.file, '--yes')).status).toBe(0);
    const without = patchFile('without.yaml', 'supervision: { backoffMaxMs: 250 }\n');
    const leftOut = await cli('push', 'box-a', without, '--sign', key.file, '--yes');
    expect(leftOut.status).not.toBe(0);
    expect(leftOut.stderr).toMatch(/remove device seal-9 \(left out of the file: seal-9\)/);
    const allowed = await cli('push', 'box-a', without, '--sign', key.file, '--yes', '--allow-removal');
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain('(device seal-9 is left out of the file: removed with "seal-9": null)');
    const view = await inForce('box-a');
    expect(view.patch).toEqual({ supervision: { backoffMaxMs: 250 }, devices: { 'seal-9': null } });
    expect(Object.keys(view.config.devices as object)).toEqual(['printer-1', 'printer-2', 'seal-1']);
  }, 90_000);
});
