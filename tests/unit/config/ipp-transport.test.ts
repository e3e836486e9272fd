// The `ipp` transport: accepted for photo printers from the file and from `config init --device`, refused
// with a clear message when the URL is not an IPP one.
import { describe, expect, it } from 'vitest';
import { parseDeviceSpec } from '../../../agent/cli/config-init.js';
import { parseConfig } from '../../../config/load.js';

const yaml = (url: string): string => `box: { id: b }
devices:
  - { id: p2, kind: photo-printer, transport: { type: ipp, url: "${url}" }, photoPrinter: { media: iso_a6_105x148mm } }
`;

describe('ipp transport', () => {
  it('takes ipp:// and ipps:// URLs with a default timeout', () => {
    const c = parseConfig(yaml('ipp://10.0.0.5:631/printers/card'), 'c.yaml', {});
    expect(c.devices[0]!.transport).toEqual({
      type: 'ipp',
      url: 'ipp://10.0.0.5:631/printers/card',
      timeoutMs: 10_000,
    });
    expect(() => parseConfig(yaml('ipps://printer.local/ipp/print'), 'c.yaml', {})).not.toThrow();
  });

  it('refuses a URL that is not IPP, naming the key', () => {
    expect(() => parseConfig(yaml('http://10.0.0.5/ipp/print'), 'c.yaml', {})).toThrow(
      /devices\.0\.transport\.url/,
    );
  });

  it('comes from a --device spec', () => {
    expect(parseDeviceSpec('p2:photo-printer:ipp://10.0.0.5:631/ipp/print')).toEqual({
      id: 'p2',
      kind: 'photo-printer',
      transport: { type: 'ipp', url: 'ipp://10.0.0.5:631/ipp/print' },
    });
  });
});
