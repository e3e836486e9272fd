// The example config of a serial seal machine is valid, and a wrong seal option is named by its key path.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../config/load.js';

describe('config/examples/seal-machine.yaml', () => {
  it('is valid: a serial seal machine with its profile', () => {
    const file = fileURLToPath(new URL('../../../config/examples/seal-machine.yaml', import.meta.url));
    const { config } = loadConfig({ file, env: {} });
    expect(config.devices[0]).toMatchObject({
      kind: 'seal',
      transport: { type: 'serial', baudRate: 9600 },
      seal: { profile: 'default', confirmWindowMs: 120000 },
    });
  });

  it('names a wrong seal option with its key path', () => {
    const yaml = [
      'box:',
      '  id: box-1',
      'devices:',
      '  - id: s',
      '    kind: seal',
      '    transport: { type: simulated }',
      '    seal: { confirmWindowMs: 10, pressure: 3 }',
      '',
    ].join('\n');
    let err: unknown;
    try {
      parseConfig(yaml, 'cfg.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      'devices.0.seal.confirmWindowMs: must be >= 5000',
      'devices.0.seal.pressure: unknown key',
    ]);
  });
});
