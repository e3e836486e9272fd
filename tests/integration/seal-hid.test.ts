// The seal driver and simulator over the in-process HID stand-in (there is no HID device or HID library
// here; the stand-in is the report pipe a real hidraw port would be): frames travel inside fixed-size
// reports with the profile's report ID, split across reports when longer than one.
import { describe, expect, it } from 'vitest';
import { SealMachine } from '../../drivers/seal/machine.js';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { SealSimulator } from '../../drivers/seal/simulator.js';
import { hidByteLink, memoryHidPair, type HidReportFormat } from '../../drivers/transport/hid-reports.js';

describe('seal machine over the HID stand-in', () => {
  it.each([64, 8])('identifies, stamps once and keeps every report %i bytes', async (reportLength) => {
    const profile = resolveSealProfile('default');
    const hid = profile.transport.hid;
    expect(hid).toBeDefined();
    const format: HidReportFormat = { reportId: hid?.reportId ?? 0, reportLength };
    const [host, device] = memoryHidPair(reportLength);
    const seen: Buffer[] = [];
    device.onReport((r) => seen.push(r));
    host.onReport((r) => seen.push(r));
    const sim = new SealSimulator(hidByteLink(device, format), profile, { serial: 'HID-1' });
    sim.start();
    const machine = new SealMachine({ profile, openLink: () => Promise.resolve(hidByteLink(host, format)) });

    expect((await machine.open()).serial).toBe('HID-1');
    expect(await machine.fire()).toMatchObject({ outcome: 'stamped' });
    expect(sim.stamps).toHaveLength(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.length === reportLength && r[0] === format.reportId)).toBe(true);
    // The identify reply (about 40 bytes) cannot fit one 8-byte report: it was split and put back together.
    if (reportLength === 8) expect(seen.length).toBeGreaterThan(10);
    await machine.close();
    expect(host.isOpen).toBe(false);
    expect(device.isOpen).toBe(false);
  });

  it('ignores reports of another report ID', async () => {
    const [host, device] = memoryHidPair(16);
    const link = hidByteLink(host, { reportId: 2, reportLength: 16 });
    const got: Buffer[] = [];
    link.onData((d) => got.push(d));
    const other = Buffer.alloc(16);
    other[0] = 3;
    other[1] = 4;
    await device.writeReport(other);
    const mine = Buffer.alloc(16);
    mine[0] = 2;
    mine[1] = 3;
    mine.write('abc', 2);
    await device.writeReport(mine);
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(got).toString()).toBe('abc');
  });
});
