// Rating pad configuration: the shipped example validates with its defaults filled in, and a bad key map or
// a HID transport naming nothing is refused with the key path.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../config/load.js';
import { createDriver } from '../../../agent/kinds/index.js';
import { withDeviceDefaults } from '../../../config/schema.js';

describe('config/examples/rating-pad.yaml', () => {
  it('is valid: a HID pad by vendor and product id, its keys turned round, defaults filled in', () => {
    const file = fileURLToPath(new URL('../../../config/examples/rating-pad.yaml', import.meta.url));
    const { config } = loadConfig({ file, env: {} });
    const [pad] = config.devices;
    expect(pad).toMatchObject({
      kind: 'rating-pad',
      transport: { type: 'hid', vendorId: 0x1a86, productId: 0xe026 },
      ratingPad: { keys: { '1': 5, '5': 1 }, defaultTimeoutMs: 30000, hidFormat: 'boot-keyboard' },
    });
  });

  it('names a rating outside 1..5 with its key path', () => {
    const yaml = [
      'box:',
      '  id: b',
      'devices:',
      '  - id: pad',
      '    kind: rating-pad',
      '    transport: { type: simulated }',
      "    ratingPad: { keys: { '1': 6 } }",
    ].join('\n');
    let err: unknown;
    try {
      parseConfig(yaml, 'cfg.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatchObject({
      path: 'devices.0.ratingPad.keys.1',
      source: 'cfg.yaml:7',
    });
  });

  it('refuses to build a HID pad that names neither a path nor vendor and product ids', () => {
    const device = withDeviceDefaults({ id: 'pad', kind: 'rating-pad', transport: { type: 'hid' } });
    expect(() => createDriver(device)).toThrow(/needs transport.path, or vendorId and productId/);
  });
});
