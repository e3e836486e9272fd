// The rules `service links` builds from udev's database, for the cases the e2e fixture does not show: records
// written by hand in `udevadm info --export-db`'s format (there is no USB hardware here).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { parseUdevDb } from '../../../agent/cli/udev-db.js';
import { deviceLinks } from '../../../agent/cli/udev-links.js';

const USB = '/devices/pci0000:00/0000:00:14.0/usb1';

/** A USB device (vendor 0403, product 6010 = FT2232) and the tty on interface `n`, as udev exports them. */
function dualAdapter(opts: { serial?: string; usbIdRan: boolean }): string {
  const usb = [
    `P: ${USB}/1-7`,
    'U: usb',
    'T: usb_device',
    'N: bus/usb/001/009',
    `E: DEVPATH=${USB}/1-7`,
    'E: SUBSYSTEM=usb',
    'E: DEVTYPE=usb_device',
    'E: PRODUCT=403/6010/700',
    ...(opts.usbIdRan
      ? [
          'E: ID_VENDOR_ID=0403',
          'E: ID_MODEL_ID=6010',
          ...(opts.serial ? [`E: ID_SERIAL_SHORT=${opts.serial}`] : []),
        ]
      : []),
  ];
  const tty = (n: number): string[] => [
    `P: ${USB}/1-7/1-7:1.${n}/ttyUSB${n}/tty/ttyUSB${n}`,
    'U: tty',
    `N: ttyUSB${n}`,
    `E: DEVPATH=${USB}/1-7/1-7:1.${n}/ttyUSB${n}/tty/ttyUSB${n}`,
    'E: SUBSYSTEM=tty',
    `E: DEVNAME=/dev/ttyUSB${n}`,
    ...(opts.usbIdRan ? [`E: ID_USB_INTERFACE_NUM=0${n}`] : []),
  ];
  return [usb, tty(0), tty(1)].map((r) => r.join('\n')).join('\n\n') + '\n';
}

const config = parseConfig(
  [
    'box: { id: b }',
    'devices:',
    '  - { id: seal-1, kind: seal, transport: { type: serial, path: /dev/ttyUSB0 } }',
    '  - { id: idcard-1, kind: idcard, transport: { type: serial, path: /dev/ttyUSB1, baudRate: 115200 } }',
    '',
  ].join('\n'),
  'test.yaml',
);

describe('service links rules', () => {
  it('matches on the serial number and the interface of each port', () => {
    const links = deviceLinks(config.devices, () =>
      parseUdevDb(dualAdapter({ serial: 'FT2X9', usbIdRan: true })),
    );
    expect(links.map((l) => l.rule)).toEqual([
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", ATTRS{serial}=="FT2X9", ENV{ID_USB_INTERFACE_NUM}=="00", SYMLINK+="boxagent/seal-1"',
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", ATTRS{serial}=="FT2X9", ENV{ID_USB_INTERFACE_NUM}=="01", SYMLINK+="boxagent/idcard-1"',
    ]);
  });

  it('falls back to the socket for a serial number udev would read as a glob', () => {
    const links = deviceLinks(config.devices, () =>
      parseUdevDb(dualAdapter({ serial: 'A*1', usbIdRan: true })),
    );
    expect(links[1]?.rule).toBe(
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", KERNELS=="1-7", ENV{ID_USB_INTERFACE_NUM}=="01", SYMLINK+="boxagent/idcard-1"',
    );
  });

  it("takes the IDs from the kernel's PRODUCT and the interface from the path when usb_id has not run", () => {
    const links = deviceLinks(config.devices, () => parseUdevDb(dualAdapter({ usbIdRan: false })));
    expect(links[1]?.rule).toBe(
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", KERNELS=="1-7", ENV{ID_USB_INTERFACE_NUM}=="01", SYMLINK+="boxagent/idcard-1"',
    );
  });

  it('does not ask udev when no device has a local node', () => {
    const networkOnly = parseConfig(
      'box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: tcp, host: 10.0.0.9, port: 9100 } }\n',
      'test.yaml',
    );
    expect(
      deviceLinks(networkOnly.devices, () => {
        throw new Error('udev asked');
      }),
    ).toEqual([]);
  });
});
