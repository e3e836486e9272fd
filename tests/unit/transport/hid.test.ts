// The node-hid transport against a fake device at the node-hid boundary (tests/helpers/fake-hid.ts): this
// container has no /dev/hidraw* and no /dev/uhid, so no physical or virtual HID device can be opened. What
// runs for real here: node-hid itself loads, enumerates (an empty list) and fails to open a missing node.
import { describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../drivers/device.js';
import { hidByteLink } from '../../../drivers/transport/hid-reports.js';
import { listHidDevices, nodeHidBackend, openHid } from '../../../drivers/transport/hid.js';
import { FakeHidBackend, keypadInfo } from '../../helpers/fake-hid.js';

const pad = keypadInfo();
const sameModel = keypadInfo({ path: '/dev/hidraw-fake-1', serialNumber: 'PJ2024002' });
const consumer = keypadInfo({ path: '/dev/hidraw-fake-2', interface: 1, usagePage: 0x0c, usage: 0x01 });

describe('HID transport', () => {
  it('loads node-hid, enumerates, and finds nothing to open on this machine', async () => {
    const devices = await listHidDevices(undefined, nodeHidBackend);
    expect(Array.isArray(devices)).toBe(true);
    await expect(openHid({ path: '/dev/hidraw-not-here' }, nodeHidBackend)).rejects.toThrow(
      DeviceAbsentError,
    );
    await expect(openHid({ vendorId: 0xfff0, productId: 0xfff0 }, nodeHidBackend)).rejects.toThrow(
      DeviceAbsentError,
    );
  });

  it('lists devices, filtered by VID:PID, serial number, interface and usage', async () => {
    const backend = new FakeHidBackend([pad, sameModel, consumer]);
    expect(await listHidDevices(undefined, backend)).toHaveLength(3);
    const byId = { vendorId: 0x1a86, productId: 0xe026 };
    expect(await listHidDevices(byId, backend)).toHaveLength(3);
    expect(
      (await listHidDevices({ ...byId, serialNumber: 'PJ2024002' }, backend)).map((d) => d.path),
    ).toEqual(['/dev/hidraw-fake-1']);
    expect((await listHidDevices({ ...byId, usagePage: 0x0c }, backend)).map((d) => d.path)).toEqual([
      '/dev/hidraw-fake-2',
    ]);
    expect(await listHidDevices({ vendorId: 1, productId: 2 }, backend)).toEqual([]);
  });

  it('opens by VID:PID and serial number, or by path, and says what it opened', async () => {
    const backend = new FakeHidBackend([pad, sameModel]);
    const a = await openHid({ vendorId: 0x1a86, productId: 0xe026, serialNumber: 'PJ2024002' }, backend);
    expect(a.info.path).toBe('/dev/hidraw-fake-1');
    const b = await openHid({ path: '/dev/hidraw-fake-0' }, backend);
    expect(b.info).toMatchObject({ serialNumber: 'PJ2024001', product: 'Rating Keypad' });
    expect(a.isOpen && b.isOpen).toBe(true);
  });

  it('says absent when no device matches or the hidraw node is gone', async () => {
    const backend = new FakeHidBackend([pad]);
    await expect(
      openHid({ vendorId: 0x1a86, productId: 0xe026, serialNumber: 'nope' }, backend),
    ).rejects.toThrow(DeviceAbsentError);
    await expect(
      openHid({ vendorId: 0x1a86, productId: 0xe026, serialNumber: 'nope' }, backend),
    ).rejects.toThrow('HID device 1a86:e026 (serial nope) is not attached');
    await expect(openHid({ path: '/dev/hidraw99' }, backend)).rejects.toThrow(DeviceAbsentError);
    // Listed, then gone before the open.
    const racing = new FakeHidBackend([pad]);
    racing.open = (path) => new FakeHidBackend([]).open(path);
    await expect(openHid({ path: '/dev/hidraw-fake-0' }, racing)).rejects.toThrow(DeviceAbsentError);
  });

  it('names the node and the likely cause when the open is refused', async () => {
    const backend = new FakeHidBackend([pad]);
    backend.open = () => Promise.reject(new Error('cannot open device with path /dev/hidraw-fake-0'));
    await expect(openHid({ path: '/dev/hidraw-fake-0' }, backend)).rejects.toThrow(/udev rule/);
  });

  it('streams input reports and writes output reports', async () => {
    const backend = new FakeHidBackend([pad]);
    const port = await openHid({ path: pad.path ?? '' }, backend);
    const got: string[] = [];
    port.onReport((r) => got.push(r.toString('hex')));
    backend.last.input('00 00 1e 00 00 00 00 00');
    backend.last.input('00 00 00 00 00 00 00 00');
    expect(got).toEqual(['00001e0000000000', '0000000000000000']);
    // Output report 0 (unnumbered): the boot keyboard LED byte.
    await port.writeReport(Buffer.from([0x00, 0x02]));
    expect(backend.last.written.map((b) => b.toString('hex'))).toEqual(['0002']);
  });

  it('reports an unplugged device as a lost port, once, and refuses writes after', async () => {
    const backend = new FakeHidBackend([pad]);
    const port = await openHid({ vendorId: 0x1a86, productId: 0xe026 }, backend);
    const closes: (Error | undefined)[] = [];
    port.onClose((err) => closes.push(err));
    backend.last.unplug();
    backend.last.unplug();
    expect(closes).toHaveLength(1);
    expect(closes[0]?.message).toBe('HID device lost: could not read from HID device: No such device');
    expect(port.isOpen).toBe(false);
    expect(backend.last.closed).toBe(true);
    await expect(port.writeReport(Buffer.from([0, 1]))).rejects.toThrow(/closed/);
  });

  it('closes without reporting a loss', async () => {
    const backend = new FakeHidBackend([pad]);
    const port = await openHid({ path: pad.path ?? '' }, backend);
    const closes: (Error | undefined)[] = [];
    port.onClose((err) => closes.push(err));
    await port.close();
    await port.close();
    expect(closes).toEqual([undefined]);
    expect(backend.last.closed).toBe(true);
  });

  it('carries a byte stream in reports through hidByteLink', async () => {
    const backend = new FakeHidBackend([pad]);
    const link = hidByteLink(await openHid({ path: pad.path ?? '' }, backend), {
      reportId: 1,
      reportLength: 8,
    });
    const got: Buffer[] = [];
    link.onData((d) => got.push(d));
    await link.write(Buffer.from('hello, seal'));
    expect(backend.last.written).toHaveLength(2);
    backend.last.input('01 03 61 62 63 00 00 00');
    expect(Buffer.concat(got).toString()).toBe('abc');
  });
});
