// `boxagent service links`: udev rules for stable /dev/boxagent/<id> names, built from udev's own database.
// There is no USB hardware here, so udev's database is a fixture in the exact shape `udevadm info --export-db`
// prints (tests/fixtures/udev/counter-box.export-db, written for this test — the only stand-in): an FT4232H
// quad USB-serial adapter (one serial number, four ttys, one per interface), a CH340 without a serial number,
// a UVC camera with RGB and infrared sensors (each a capture node, index 0, and a metadata node, index 1),
// a camera without a serial number, an Epson on usblp and an on-board COM port. The rules are then checked by
// udev's own rule parser (udevadm from Debian's udev package), in a private mount namespace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, ROOT, runCli, tempDir, testEnv } from '../helpers/daemon.js';

const UDEV_DB = join(ROOT, 'tests/fixtures/udev/counter-box.export-db');
const BY_ID = '/dev/serial/by-id/usb-FTDI_Quad_RS232-HS_FT4ABC12';
const FTDI = 'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6011", ATTRS{serial}=="FT4ABC12"';
const CAPTURE = 'SUBSYSTEM=="video4linux", KERNEL=="video[0-9]*", ATTR{index}=="0"';

let root: string;
let rules: string;
let stdout: string;

beforeAll(() => {
  root = tempDir('boxagent-links-');
  const config = join(root, 'config.yaml');
  writeFileSync(
    config,
    [
      'box: { id: box-1 }',
      'devices:',
      // The four ports of the FTDI, named four ways: by-id link or kernel name.
      `  - { id: seal-1, kind: seal, transport: { type: serial, path: ${BY_ID}-if00-port0 } }`,
      '  - { id: idcard-1, kind: idcard, transport: { type: serial, path: /dev/ttyUSB1, baudRate: 115200 } }',
      `  - { id: printer-1, kind: printer, transport: { type: serial, path: ${BY_ID}-if02-port0 } }`,
      '  - { id: printer-2, kind: printer, transport: { type: serial, path: /dev/ttyUSB3 } }',
      '  - { id: idcard-2, kind: idcard, transport: { type: serial, path: /dev/ttyUSB4, baudRate: 115200 } }',
      '  - { id: printer-3, kind: printer, transport: { type: usblp, path: /dev/usb/lp0 } }',
      '  - { id: printer-4, kind: printer, transport: { type: serial, path: /dev/ttyS0 } }',
      '  - { id: printer-5, kind: printer, transport: { type: usb, vendorId: 0x04b8, productId: 0x0005 } }',
      '  - { id: seal-2, kind: seal, transport: { type: serial, path: /dev/ttyUSB9 } }',
      '  - id: face-1',
      '    kind: camera',
      '    transport: { type: video }',
      '    camera: { source: /dev/video0, irSource: /dev/video2 }',
      '  - id: face-2',
      '    kind: camera',
      '    transport: { type: video }',
      '    camera: { source: "/dev/v4l/by-path/pci-0000:00:14.0-usb-0:5:1.0-video-index0" }',
      '  - { id: camera-9, kind: camera, transport: { type: simulated } }',
      '',
    ].join('\n'),
  );
  const r = runCli(
    ['service', 'links', '--udev-db', UDEV_DB, '--root', root, '--write'],
    testEnv(root, { BOXAGENT_CONFIG: config }),
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  stdout = r.stdout;
  rules = readFileSync(join(root, 'etc/udev/rules.d/71-boxagent-devices.rules'), 'utf8');
});

afterAll(() => removeDir(root));

/** The rule line after the `# <name>` comment. */
function ruleFor(name: string): string {
  const lines = rules.split('\n');
  const at = lines.indexOf(`# ${name}`);
  expect(at, `no rule for ${name} in:\n${rules}`).toBeGreaterThanOrEqual(0);
  return lines[at + 1] ?? '';
}

describe('service links', () => {
  it('gives each port of a multi-port adapter its own link by interface number', () => {
    expect(ruleFor('seal-1')).toBe(`${FTDI}, ENV{ID_USB_INTERFACE_NUM}=="00", SYMLINK+="boxagent/seal-1"`);
    expect(ruleFor('idcard-1')).toBe(
      `${FTDI}, ENV{ID_USB_INTERFACE_NUM}=="01", SYMLINK+="boxagent/idcard-1"`,
    );
    expect(ruleFor('printer-1')).toBe(
      `${FTDI}, ENV{ID_USB_INTERFACE_NUM}=="02", SYMLINK+="boxagent/printer-1"`,
    );
    expect(ruleFor('printer-2')).toBe(
      `${FTDI}, ENV{ID_USB_INTERFACE_NUM}=="03", SYMLINK+="boxagent/printer-2"`,
    );
  });

  it('binds an adapter without a serial number to its USB socket', () => {
    expect(ruleFor('idcard-2')).toBe(
      'SUBSYSTEM=="tty", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", KERNELS=="1-3.2", ' +
        'ENV{ID_USB_INTERFACE_NUM}=="00", SYMLINK+="boxagent/idcard-2"',
    );
  });

  it('links the capture node of each camera sensor, by serial number and interface, else by bus path', () => {
    const serial = 'ENV{ID_SERIAL}=="Sonix_Technology_Co.__Ltd._USB_2.0_Camera_SN0042"';
    expect(ruleFor('face-1')).toBe(
      `${CAPTURE}, ${serial}, ENV{ID_USB_INTERFACE_NUM}=="00", SYMLINK+="boxagent/face-1"`,
    );
    // The infrared sensor of the same camera: same serial number, its own interface.
    expect(ruleFor('face-1-ir')).toBe(
      `${CAPTURE}, ${serial}, ENV{ID_USB_INTERFACE_NUM}=="02", SYMLINK+="boxagent/face-1-ir"`,
    );
    expect(ruleFor('face-2')).toBe(
      `${CAPTURE}, ENV{ID_PATH}=="pci-0000:00:14.0-usb-0:5:1.0", SYMLINK+="boxagent/face-2"`,
    );
    expect(rules).not.toContain('camera-9');
  });

  it('keeps the usblp and libusb rules, and says why a device gets none', () => {
    expect(ruleFor('printer-3')).toBe(
      'SUBSYSTEM=="usbmisc", ATTRS{idVendor}=="04b8", ATTRS{idProduct}=="0005", ATTRS{serial}=="L63K000123", ' +
        'SYMLINK+="boxagent/printer-3"',
    );
    expect(ruleFor('printer-5')).toContain('ATTR{idVendor}=="04b8", ATTR{idProduct}=="0005"');
    expect(rules).toContain('# printer-4: no rule — /dev/ttyS0 is not a USB device; its name is stable');
    expect(rules).toContain("# seal-2: no rule — /dev/ttyUSB9 is not attached now (not in udev's database)");
  });

  it('tells the installer which config keys to point at the links', () => {
    expect(stdout).toContain('boxagent config set devices.idcard-1.transport.path /dev/boxagent/idcard-1');
    expect(stdout).toContain('boxagent config set devices.face-1.camera.source /dev/boxagent/face-1');
    expect(stdout).toContain('boxagent config set devices.face-1.camera.irSource /dev/boxagent/face-1-ir');
  });

  it("passes udev's own rule parser (udevadm test in a private mount namespace)", () => {
    // udev 252 (Debian 12) has no `udevadm verify` (new in 254). `udevadm test` loads every rules file,
    // logging "<file>:<line> <problem>" for each line it cannot parse; the generated file is put in
    // /run/udev/rules.d of a private mount namespace only, with the shipped 70-boxagent.rules beside it.
    const shipped = readFileSync(join(ROOT, 'systemd/udev/70-boxagent.rules'), 'utf8');
    const broken = 'SUBSYSTEM=="tty", ATTRS{idVendor}="0403", SYMLINK+="boxagent/broken"\n';
    let checks = 0;
    const check = (files: Record<string, string>): string => {
      const dir = join(root, `rules-${(checks += 1)}`);
      mkdirSync(dir);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const r = spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-ec',
          // A tmpfs over /run: the rules and anything udevadm test writes stay in the namespace.
          'mount -t tmpfs tmpfs /run && mkdir -p /run/udev/rules.d && ' +
            `cp "${dir}"/*.rules /run/udev/rules.d/ && udevadm test /sys/class/mem/null`,
        ],
        { encoding: 'utf8' },
      );
      expect(r.error).toBeUndefined();
      expect(r.stderr + r.stdout).toContain(
        'Reading rules file: /run/udev/rules.d/71-boxagent-devices.rules',
      );
      return (r.stderr + r.stdout)
        .split('\n')
        .filter((l) => l.startsWith('/run/udev/rules.d/'))
        .join('\n');
    };
    // The check itself: a wrong operator (= for ==) in a match is reported with its file and line.
    expect(check({ '71-boxagent-devices.rules': broken })).toMatch(
      /^\/run\/udev\/rules\.d\/71-boxagent-devices\.rules:1 /,
    );
    expect(check({ '70-boxagent.rules': shipped, '71-boxagent-devices.rules': rules })).toBe('');
  });
});
