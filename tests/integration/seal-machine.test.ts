// The seal driver against the seal simulator over a real socat pty, both speaking the default profile:
// identity, status, a stamp, interlocks, and the scripted faults. Retry-safe commands survive a NAK, a
// garbled reply and a silence; the stamp is sent once whatever happens, as the simulator's own log shows.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SealInterlockError, SealMachine } from '../../drivers/seal/machine.js';
import { resolveSealProfile, type SealProfile } from '../../drivers/seal/profile.js';
import { SealSimulator } from '../../drivers/seal/simulator.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { memoryLinkPair } from '../../drivers/transport/memory-pair.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { openPtyPair, type PtyPair } from '../helpers/pty-pair.js';

const SERIAL = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false } as const;

function fastProfile(): SealProfile {
  const p = resolveSealProfile('default');
  // Short reply timeouts keep the silence cases quick; the press itself keeps a generous one.
  for (const c of [p.commands.status, p.commands.identify, p.commands.reset, p.commands.selfTest]) {
    if (c) c.timeoutMs = 400;
  }
  p.commands.stamp.timeoutMs = 3000;
  return p;
}

describe('seal machine over a socat pty', () => {
  let dir: string;
  let pair: PtyPair;
  let sim: SealSimulator;
  let machine: SealMachine;
  const profile = fastProfile();

  beforeAll(async () => {
    dir = tempDir();
    pair = await openPtyPair(dir, 'seal');
  });
  afterAll(async () => {
    await pair?.close();
    removeDir(dir);
  });

  beforeEach(async () => {
    sim = new SealSimulator(await openSerial({ path: pair.peer, ...SERIAL }), profile, {
      serial: 'SN-PTY-42',
      stampDelayMs: 50,
    });
    sim.start();
    machine = new SealMachine({ profile, openLink: () => openSerial({ path: pair.device, ...SERIAL }) });
  });
  afterEach(async () => {
    await machine.close();
    await sim.stop();
  });

  it('identifies the machine, reads its status and stamps once', async () => {
    expect(await machine.open()).toEqual({
      model: 'Seal machine simulator',
      serial: 'SN-PTY-42',
      firmware: 'sim-1.0',
    });
    await machine.probe();
    expect(await machine.checkBeforeStamp()).toMatchObject({ documentPresent: true, busy: false });
    const outcome = await machine.fire();
    expect(outcome).toMatchObject({ outcome: 'stamped', postconditions: [] });
    expect(sim.stamps).toHaveLength(1);
    expect((await machine.selfTest()).ok).toBe(true);
    expect(sim.stamps).toHaveLength(1);
  });

  it('refuses to stamp with the cover open, no document or the machine busy', async () => {
    await machine.open();
    sim.setCover(false);
    sim.setDocument(false);
    const err = await machine.checkBeforeStamp().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealInterlockError);
    expect((err as SealInterlockError).message).toBe(
      'seal interlock: no document is in place; the cover is open',
    );
    sim.setCover(true);
    sim.setDocument(true);
    sim.setBusy(true);
    await expect(machine.checkBeforeStamp()).rejects.toThrow('seal interlock: the machine is busy');
    expect(sim.stamps).toHaveLength(0);
  });

  it('retries a status request after a NAK, a bad checksum and a silence', async () => {
    await machine.open();
    sim.scriptReplies('nak', 'bad-checksum');
    expect((await machine.status()).coverClosed).toBe(true);
    sim.scriptReplies('silence', 'silence');
    expect((await machine.status()).coverClosed).toBe(true);
    // 1 + retries attempts, all failing: the error says why.
    sim.scriptReplies('silence', 'silence', 'silence');
    await expect(machine.status()).rejects.toThrow(/status: no reply within 400 ms/);
  });

  it('never resends the stamp: a NAK is "refused", a silence or a garbled reply is "unknown"', async () => {
    await machine.open();
    const stampCode = profile.commands.stamp.code;
    const stampsSent = () => sim.received.filter((c) => c === stampCode).length;

    sim.scriptReplies('nak');
    expect(await machine.fire()).toMatchObject({ outcome: 'refused' });
    expect(sim.stamps).toHaveLength(0);

    sim.scriptReplies('bad-checksum');
    let out = await machine.fire();
    expect(out.outcome).toBe('unknown');
    expect(out.outcome === 'unknown' && out.reason).toMatch(/garbled/);
    expect(sim.stamps).toHaveLength(1);

    sim.scriptReplies('silence');
    out = await machine.fire();
    expect(out.outcome).toBe('unknown');
    expect(out.outcome === 'unknown' && out.reason).toMatch(/no reply/);
    expect(sim.stamps).toHaveLength(2);
    expect(stampsSent()).toBe(3);
  });
});

describe('seal machine on the in-process link', () => {
  it('is the same driver and simulator without a port', async () => {
    const profile = fastProfile();
    const [a, b] = memoryLinkPair();
    const sim = new SealSimulator(b, profile);
    sim.start();
    const machine = new SealMachine({ profile, openLink: () => Promise.resolve(a) });
    expect((await machine.open()).serial).toBe('SIM-SEAL-0001');
    expect(await machine.fire()).toMatchObject({ outcome: 'stamped' });
    expect(sim.stamps).toHaveLength(1);
    await machine.close();
    await sim.stop();
  });
});
