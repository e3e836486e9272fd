// A seal device's `seal.profile` picks its protocol; a profile that fails its own checksum vectors never
// gets a driver, and the reason is the one the device reports.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../../agent/kinds/index.js';
import { DeviceManager } from '../../../agent/devices/device-manager.js';
import { SealMachine } from '../../../drivers/seal/machine.js';
import { sealProfileDir } from '../../../drivers/seal/profile.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait-for.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

function profileWith(edit: (yaml: string) => string): string {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, edit(readFileSync(join(sealProfileDir(), 'default.yaml'), 'utf8')));
  return file;
}

describe('seal driver from config', () => {
  it('builds the profile-driven driver for a serial seal', () => {
    const driver = createDriver({
      id: 's',
      kind: 'seal',
      transport: {
        type: 'serial',
        path: '/dev/null',
        baudRate: 9600,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        rtscts: false,
      },
      seal: { profile: profileWith((y) => y), confirmWindowMs: 60_000, simulatedStampDelayMs: 0 },
    });
    expect(driver).toBeInstanceOf(SealMachine);
  });

  it('puts a seal whose profile has a wrong checksum spec in error, naming the vector', async () => {
    const bad = profileWith((y) => y.replace('algorithm: crc16-modbus', 'algorithm: crc16-ccitt'));
    const manager = new DeviceManager(
      [
        {
          id: 'seal-x',
          kind: 'seal',
          transport: { type: 'simulated' },
          seal: { profile: bad, confirmWindowMs: 60_000, simulatedStampDelayMs: 0 },
        },
      ],
      { probeIntervalMs: 1000, failuresBeforeError: 1, backoffInitialMs: 10_000, backoffMaxMs: 10_000 },
      createDriver,
      pino({ level: 'silent' }),
      () => undefined,
    );
    manager.start();
    try {
      await waitFor('seal-x in error', () => manager.list()[0]?.state === 'backoff');
      expect(manager.list()[0]?.detail).toMatch(
        /\/checksum\/vectors\/0: crc16-ccitt .* the checksum spec is wrong/,
      );
    } finally {
      await manager.stop();
    }
  });
});
