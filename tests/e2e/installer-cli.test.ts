// The installer's commands as processes: config init/show/get/set, devices scan/list/test, doctor, audit
// verify, service install. Every one non-interactively; the wizard once through a real pseudo-terminal.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, DEFAULT_CONFIG, removeDir, runCli, startDaemon, tempDir, testEnv } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';
import { mmToDots } from '../../drivers/printer/units.js';

const dirs: string[] = [];
function scratch(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach(removeDir));

/** The CLI's environment without the test daemon's port and log overrides, so files speak for themselves. */
function plainEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env = testEnv(dir, extra);
  delete env.BOXAGENT_HTTP_PORT;
  delete env.BOXAGENT_LOG_LEVEL;
  return env;
}

function oneLineError(r: { status: number | null; stderr: string }, status: number): string {
  expect(r.status).toBe(status);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

/**
 * No USB hardware here: a small sysfs tree stands in for the kernel's (the only mock in this file) — a CH340
 * USB-serial adapter on ttyUSB0 with its /dev/serial/by-id link, and an Epson LQ-630K on usblp lp0.
 */
function fakeSysfs(): string {
  const root = scratch();
  const usb = join(root, 'sys/devices/usb1/1-1');
  mkdirSync(join(usb, '1-1:1.0/ttyUSB0'), { recursive: true });
  writeFileSync(join(usb, 'idVendor'), '1a86\n');
  writeFileSync(join(usb, 'idProduct'), '7523\n');
  mkdirSync(join(root, 'sys/class/tty/ttyUSB0'), { recursive: true });
  symlinkSync(join(usb, '1-1:1.0/ttyUSB0'), join(root, 'sys/class/tty/ttyUSB0/device'));
  const lp = join(root, 'sys/devices/usb1/1-2');
  mkdirSync(join(lp, '1-2:1.0'), { recursive: true });
  writeFileSync(join(lp, 'idVendor'), '04b8\n');
  writeFileSync(join(lp, 'idProduct'), '0005\n');
  writeFileSync(join(lp, '1-2:1.0/ieee1284_id'), 'MFG:EPSON;CMD:ESCPL2,BDC;MDL:LQ-630K;CLS:PRINTER;\n');
  mkdirSync(join(root, 'sys/class/usbmisc/lp0'), { recursive: true });
  symlinkSync(join(lp, '1-2:1.0'), join(root, 'sys/class/usbmisc/lp0/device'));
  mkdirSync(join(root, 'dev/serial/by-id'), { recursive: true });
  symlinkSync('../../ttyUSB0', join(root, 'dev/serial/by-id/usb-1a86_USB_Serial-if00-port0'));
  return root;
}

describe('config init', () => {
  it('writes a valid config from flags alone', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    const r = runCli(
      [
        'config',
        'init',
        '--non-interactive',
        '-c',
        file,
        '--box-id',
        'box-7',
        '--site',
        '石门村便民服务站',
        '--mqtt-url',
        'mqtts://fleet.invalid:8883',
        '--mqtt-username',
        'box-7',
        '--device',
        'printer-1:printer:serial:/dev/ttyUSB0@9600',
        '--device',
        'seal-1:seal:simulated',
      ],
      testEnv(dir),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The password file it names is the installer's next step, so validate says it is missing (exit 78).
    const v = runCli(['config', 'validate', file], testEnv(dir));
    expect(oneLineError(v, 78)).toMatch(/mqtt\.passwordFile: \/etc\/boxagent\/mqtt-password does not exist$/);
    const shown = runCli(['config', 'show', '--json', '-c', file], testEnv(dir));
    expect(shown.status).toBe(0);
    const config = JSON.parse(shown.stdout) as {
      box: { id: string; site: string; locale: string };
      mqtt: { url: string; passwordFile: string };
      devices: { id: string; transport: { type: string; baudRate?: number } }[];
    };
    expect(config.box).toEqual({ id: 'box-7', site: '石门村便民服务站', locale: 'zh-CN' });
    expect(config.mqtt.passwordFile).toBe('/etc/boxagent/mqtt-password');
    expect(config.devices.map((d) => [d.id, d.transport.type])).toEqual([
      ['printer-1', 'serial'],
      ['seal-1', 'simulated'],
    ]);
    expect(config.devices[0]?.transport.baudRate).toBe(9600);
  });

  it('refuses to overwrite without --force, and keeps a backup with it', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    const args = ['config', 'init', '--non-interactive', '-c', file, '--box-id', 'a', '--simulated'];
    expect(runCli(args, testEnv(dir)).status).toBe(0);
    const before = readFileSync(file, 'utf8');
    const again = runCli([...args.slice(0, 6), 'b'], testEnv(dir));
    expect(oneLineError(again, 64)).toMatch(/exists; add --force/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(runCli([...args.slice(0, 6), 'b', '--force'], testEnv(dir)).status).toBe(0);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
    expect(readFileSync(file, 'utf8')).toContain('id: b');
  });

  it('rejects bad flags with one line and writes nothing', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    for (const [args, message] of [
      [['--device', 'p:toaster:simulated', '--box-id', 'x'], /kind must be one of/],
      [['--device', 'p:printer:serial', '--box-id', 'x'], /serial needs a path/],
      [[], /--box-id is required/],
    ] as const) {
      const r = runCli(['config', 'init', '--non-interactive', '-c', file, ...args], testEnv(dir));
      expect(oneLineError(r, 64)).toMatch(message);
    }
    expect(existsSync(file)).toBe(false);
  });

  // (The other answers' rules: tests/unit/cli/init-answers.test.ts.)
  it('checks each flag as it is read, saying the rule in words', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    for (const [args, message] of [
      [['--box-id', 'no spaces'], /--box-id "no spaces": a box id is 1 to 64 characters: Latin letters/],
      [['--box-id', 'x', '--http-port', '80'], /--http-port "80": the port is a number from 1024 to 65535/],
      [
        ['--box-id', 'x', '--mqtt-url', 'mqtt://f.example', '--mqtt-ca', file],
        /--mqtt-ca is for a TLS broker/,
      ],
    ] as const) {
      const r = runCli(['config', 'init', '--non-interactive', '-c', file, ...args], testEnv(dir));
      expect(oneLineError(r, 64)).toMatch(message);
    }
    expect(existsSync(file)).toBe(false);
  }, 60_000);

  it('asks for what is missing when run at a terminal, offering the attached devices (a real pty via socat)', async () => {
    const dir = fakeSysfs();
    const file = join(dir, 'config.yaml');
    // socat runs the CLI on a fresh pseudo-terminal and relays our stdin/stdout to it.
    const child = spawn(
      'socat',
      [
        '-',
        `EXEC:${process.execPath} ${CLI} config init -c ${file} --sysfs-root ${dir},pty,setsid,ctty,stderr`,
      ],
      { env: testEnv(dir), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let screen = '';
    child.stdout.on('data', (c: Buffer) => (screen += c.toString('utf8')));
    const answers: [RegExp, string][] = [
      [/Box id.*: $/, 'box-42'],
      [/Site.*: $/, '城关镇政务服务中心'],
      [/Local HTTP port \[8620\]: $/, '8630'],
      [/State directory \[\/var\/lib\/boxagent\]: $/, ''],
      [/origins\) of the counter software.*: $/, ''],
      [/Fleet broker URL.*: $/, ''],
      // The LQ-630K found on lp0 is offered as the printer (default [2]); Enter takes it.
      [/2\) \/dev\/usb\/lp0 04b8:0005 LQ-630K[^]*dot-matrix printer: a number from the list.*\[2\]: $/, ''],
      [/x offset in mm \[0\]: $/, '-1.5'],
      [/y offset in mm \[0\]: $/, ''],
      [/face camera:.*: $/, 'simulated'],
      [/steel-seal machine:.*: $/, '1'],
      [/photo\/certificate printer:.*: $/, 'tcp:127.0.0.1:9100'],
      [/ID card reader:.*: $/, 'serial:/dev/ttyUSB4@115200'],
      [/service-rating pad:.*: $/, 'hid:1a86:e026'],
    ];
    for (const [prompt, answer] of answers) {
      await waitFor(`prompt ${prompt}`, () => prompt.test(screen.trimEnd() + ' '));
      screen = '';
      child.stdin.write(answer + '\n');
    }
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    const config = JSON.parse(runCli(['config', 'validate', file, '--json'], plainEnv(dir)).stdout) as {
      box: { id: string; site: string; locale: string };
      http: { port: number };
      devices: { id: string; kind: string; transport: { type: string; path?: string } }[];
    };
    expect(config.box).toEqual({ id: 'box-42', site: '城关镇政务服务中心', locale: 'zh-CN' });
    expect(config.http.port).toBe(8630);
    expect(config.devices.map((d) => `${d.id}:${d.transport.type}`)).toEqual([
      'printer-1:usblp',
      'camera-1:simulated',
      'seal-1:serial',
      'photo-printer-1:tcp',
      'idcard-1:serial',
      'rating-pad-1:hid',
    ]);
    expect(config.devices[5]).toMatchObject({ transport: { vendorId: 0x1a86, productId: 0xe026 } });
    expect(config.devices[0]).toMatchObject({
      transport: { path: '/dev/usb/lp0' },
      printer: { calibration: { xMm: -1.5, yMm: 0 } },
    });
    // The adapter by its stable name, which survives moving it to another USB socket.
    expect(config.devices[2]).toMatchObject({
      transport: { path: '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0' },
    });
  });
});

/** The wizard on a real pseudo-terminal (socat gives the CLI a fresh pty and relays our stdin/stdout to it). */
function wizard(args: string[], env: Record<string, string>) {
  const child = spawn(
    'socat',
    ['-', `EXEC:${process.execPath} ${CLI} ${args.join(' ')},pty,setsid,ctty,stderr`],
    {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let screen = '';
  child.stdout.on('data', (c: Buffer) => (screen += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return {
    /** Waits for `prompt` at the end of the screen, returns what was shown since the last answer, answers. */
    async answer(prompt: RegExp, text: string): Promise<string> {
      await waitFor(`prompt ${prompt}`, () => prompt.test(screen.trimEnd() + ' '));
      const shown = screen;
      screen = '';
      child.stdin.write(text + '\n');
      return shown;
    },
    async end(): Promise<{ code: number | null; screen: string }> {
      const code = await exited;
      return { code, screen };
    },
  };
}

describe('config init at a terminal', () => {
  it('asks a refused answer again, saying why (a typo in the port, the box id, an origin)', async () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    const ca = join(dir, 'fleet-ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    // A port another program holds: the wizard must not offer the daemon a port it cannot bind.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const w = wizard(['config', 'init', '-c', file, '--sysfs-root', dir], plainEnv(dir));
      await w.answer(/Box id.*: $/, '石门村 box');
      expect(await w.answer(/Box id.*: $/, 'shimen-01')).toMatch(
        /a box id is 1 to 64 characters: Latin letters, digits, "-" and "_"/,
      );
      await w.answer(/Site.*: $/, '石门村便民服务站');
      await w.answer(/Local HTTP port \[8620\]: $/, '80');
      expect(await w.answer(/Local HTTP port \[8620\]: $/, String(taken))).toMatch(
        /the port is a number from 1024 to 65535 \(below 1024 needs root/,
      );
      expect(await w.answer(/Local HTTP port \[8620\]: $/, '8631')).toMatch(
        new RegExp(`port ${taken} is already used by another program on this box; choose another`),
      );
      await w.answer(/State directory \[\/var\/lib\/boxagent\]: $/, join(dir, 'state'));
      await w.answer(/origins\) of the counter software.*: $/, 'https://zwfw.example.gov.cn/app');
      expect(
        await w.answer(
          /origins\) of the counter software.*: $/,
          'https://zwfw.example.gov.cn, http://10.0.0.5:8080',
        ),
      ).toMatch(/"https:\/\/zwfw\.example\.gov\.cn\/app" is not an origin/);
      await w.answer(/Fleet broker URL.*: $/, 'mqtts://fleet.example.gov.cn:8883');
      await w.answer(/Broker username.*: $/, '');
      // Only a TLS broker is asked for its CA file.
      await w.answer(/CA certificate file of the broker.*: $/, join(dir, 'no-such.pem'));
      expect(await w.answer(/CA certificate file of the broker.*: $/, ca)).toMatch(
        /there is no file .*no-such\.pem/,
      );
      await w.answer(/dot-matrix printer:.*: $/, '');
      // A camera as the installer types it: the V4L2 node itself.
      await w.answer(/face camera:.*: $/, '/dev/video0');
      await w.answer(/steel-seal machine:.*: $/, '7');
      expect(await w.answer(/steel-seal machine:.*: $/, '/dev/ttyUSB3')).toMatch(
        /nothing was found attached: type the device/,
      );
      for (const kind of [
        /photo\/certificate printer:.*: $/,
        /ID card reader:.*: $/,
        /service-rating pad:.*: $/,
      ])
        await w.answer(kind, '');
      const { code, screen } = await w.end();
      expect(code).toBe(0);
      // It ends with what to do next.
      expect(screen).toMatch(
        /Next steps:[^]*config validate[^]*token create[^]*systemctl enable --now boxagent[^]*doctor/,
      );
      const env = plainEnv(dir);
      delete env.BOXAGENT_STORAGE_DIR; // the file's own storage.dir
      const config = JSON.parse(runCli(['config', 'validate', file, '--json'], env).stdout) as {
        box: { id: string };
        http: { port: number; allowedOrigins: string[] };
        storage: { dir: string };
        mqtt: { url: string; ca: string };
        devices: { id: string; transport: { type: string; path?: string }; camera?: { source: string } }[];
      };
      expect(config.box.id).toBe('shimen-01');
      expect(config.http.port).toBe(8631);
      expect(config.http.allowedOrigins).toEqual(['https://zwfw.example.gov.cn', 'http://10.0.0.5:8080']);
      expect(config.storage.dir).toBe(join(dir, 'state'));
      expect(config.mqtt).toMatchObject({ url: 'mqtts://fleet.example.gov.cn:8883', ca });
      expect(config.devices.map((d) => d.id)).toEqual(['camera-1', 'seal-1']);
      expect(config.devices[0]).toMatchObject({
        transport: { type: 'video' },
        camera: { source: '/dev/video0' },
      });
      expect(config.devices[1]).toMatchObject({ transport: { type: 'serial', path: '/dev/ttyUSB3' } });
    } finally {
      holder.close();
    }
  }, 60_000);

  it('with --force offers the old answers, keeps the devices and other keys, and asks no CA for mqtt://', async () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'box: { id: box-3, site: 城关镇 }',
        'http: { port: 8632, allowedOrigins: ["https://a.example"] }',
        'storage: { dir: /srv/boxagent }',
        'mqtt: { url: "mqtt://10.0.0.2:1883", keepaliveSeconds: 45 }',
        'log: { level: debug }',
        'devices:',
        '  - { id: seal-9, kind: seal, transport: { type: serial, path: /dev/ttyUSB9 } }',
        '',
      ].join('\n'),
    );
    const w = wizard(['config', 'init', '--force', '-c', file, '--sysfs-root', dir], plainEnv(dir));
    await w.answer(/Box id.*\[box-3\]: $/, '');
    await w.answer(/Site.*\[城关镇\]: $/, '');
    await w.answer(/Local HTTP port \[8632\]: $/, '');
    await w.answer(/State directory \[\/srv\/boxagent\]: $/, '');
    await w.answer(/counter software.*\[https:\/\/a\.example\]: $/, '');
    await w.answer(/Fleet broker URL.*\[mqtt:\/\/10\.0\.0\.2:1883\]: $/, '');
    await w.answer(/Broker username.*: $/, '');
    // Straight to the devices: no CA file for a plain mqtt:// broker.
    const shown = await w.answer(/: $/, '');
    expect(shown).toMatch(/^\s*Keep the configured devices \(seal-9\)\? \[Y\/n\]: $/);
    const { code } = await w.end();
    expect(code).toBe(0);
    const env = plainEnv(dir);
    delete env.BOXAGENT_STORAGE_DIR; // the file's own storage.dir
    const config = JSON.parse(runCli(['config', 'validate', file, '--json'], env).stdout) as Record<
      string,
      unknown
    >;
    expect(config).toMatchObject({
      box: { id: 'box-3', site: '城关镇' },
      http: { port: 8632, allowedOrigins: ['https://a.example'] },
      storage: { dir: '/srv/boxagent' },
      mqtt: { url: 'mqtt://10.0.0.2:1883', keepaliveSeconds: 45 },
      log: { level: 'debug' },
      devices: [{ id: 'seal-9', transport: { path: '/dev/ttyUSB9' } }],
    });
    expect(existsSync(`${file}.bak`)).toBe(true);
  }, 60_000);
});

describe('config show, get, set', () => {
  function setup(): { dir: string; file: string; env: Record<string, string> } {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      '# the box at the village hall\nbox:\n  id: box-1 # set by the installer\nhttp:\n  port: 8620\n',
    );
    return { dir, file, env: plainEnv(dir, { BOXAGENT_CONFIG: file }) };
  }

  it('gets values with defaults and env overrides applied', () => {
    const { env } = setup();
    const clean = env;
    expect(runCli(['config', 'get', 'http.port'], clean).stdout.trim()).toBe('8620');
    expect(
      runCli(['config', 'get', 'http.port'], { ...clean, BOXAGENT_HTTP_PORT: '9000' }).stdout.trim(),
    ).toBe('9000');
    expect(runCli(['config', 'get', 'storage.dir'], env).stdout.trim()).toBe(env.BOXAGENT_STORAGE_DIR);
    expect(JSON.parse(runCli(['config', 'show', '--json'], clean).stdout)).toMatchObject({
      box: { id: 'box-1' },
      log: { level: 'info' },
    });
    expect(oneLineError(runCli(['config', 'get', 'http.colour'], env), 78)).toMatch(
      /http\.colour: unknown key/,
    );
  });

  it('sets a value, keeping comments and a backup', () => {
    const { file, env } = setup();
    const before = readFileSync(file, 'utf8');
    const r = runCli(['config', 'set', 'http.port', '8621'], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('port: 8621');
    expect(after).toContain('# set by the installer');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
    expect(
      runCli(['config', 'set', 'http.allowedOrigins', 'http://localhost:3000,http://127.0.0.1:3000'], env)
        .status,
    ).toBe(0);
    const origins = runCli(['config', 'get', 'http.allowedOrigins', '--json'], env).stdout;
    expect(JSON.parse(origins)).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
  });

  it('refuses a bad value or an unknown key and leaves the file untouched', () => {
    const { file, env } = setup();
    const before = readFileSync(file, 'utf8');
    expect(oneLineError(runCli(['config', 'set', 'http.port', 'eighty'], env), 78)).toMatch(
      /http\.port: must be integer/,
    );
    expect(oneLineError(runCli(['config', 'set', 'http.port', '70000'], env), 78)).toMatch(
      /http\.port: must be <= 65535/,
    );
    expect(oneLineError(runCli(['config', 'set', 'box.colour', 'red'], env), 78)).toMatch(
      /box\.colour: unknown key/,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });
});

describe('config set on a device, addressed by its id', () => {
  it('sets the printer calibration offsets of one device and refuses an unknown device or key', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'box:',
        '  id: box-1',
        'devices:',
        '  - id: seal-1 # the seal',
        '    kind: seal',
        '    transport: { type: simulated }',
        '  - id: printer-1',
        '    kind: printer',
        '    transport: { type: serial, path: /dev/ttyUSB0 }',
        '',
      ].join('\n'),
    );
    const env = plainEnv(dir, { BOXAGENT_CONFIG: file });
    expect(runCli(['config', 'set', 'devices.printer-1.printer.calibration.xMm', '-1.5'], env).status).toBe(
      0,
    );
    expect(runCli(['config', 'set', 'devices.printer-1.transport.baudRate', '19200'], env).status).toBe(0);
    expect(runCli(['config', 'get', 'devices.printer-1.printer.calibration.xMm'], env).stdout.trim()).toBe(
      '-1.5',
    );
    expect(runCli(['config', 'get', 'devices.printer-1.printer.calibration.yMm'], env).stdout.trim()).toBe(
      '0',
    );
    expect(readFileSync(file, 'utf8')).toContain('# the seal');

    const before = readFileSync(file, 'utf8');
    expect(
      oneLineError(runCli(['config', 'set', 'devices.printer-9.printer.calibration.xMm', '1'], env), 78),
    ).toMatch(/no device "printer-9" in the file \(devices: seal-1, printer-1\)/);
    expect(oneLineError(runCli(['config', 'set', 'devices.printer-1.colour', 'red'], env), 78)).toMatch(
      /unknown key/,
    );
    expect(
      oneLineError(runCli(['config', 'set', 'devices.printer-1.printer.calibration.xMm', '80'], env), 78),
    ).toMatch(/calibration\/xMm|calibration\.xMm: must be <= 50/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('devices', () => {
  it('scan lists serial ports, USB printers (IEEE 1284 ID), HID and video devices from sysfs', () => {
    const root = fakeSysfs();

    const r = runCli(['devices', 'scan', '--json', '--sysfs-root', root], testEnv(root));
    expect(r.status).toBe(0);
    const found = JSON.parse(r.stdout) as {
      class: string;
      node: string;
      vendorId?: string;
      match?: { kind: string };
      suggestion?: string;
      ieee1284?: string;
    }[];
    const serial = found.find((d) => d.node === '/dev/ttyUSB0');
    expect(serial).toMatchObject({ class: 'serial', vendorId: '1a86', productId: '7523' });
    expect(serial?.suggestion).toBe(
      '--device ID:KIND:serial:/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0',
    );
    const printer = found.find((d) => d.node === '/dev/usb/lp0');
    expect(printer).toMatchObject({
      class: 'usb-printer',
      description: 'LQ-630K',
      match: { kind: 'printer' },
    });
  });

  it('list and test go through the running daemon; without it they say so', async () => {
    const dir = scratch();
    const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG, BOXAGENT_HTTP_PORT: '0' });
    const down = runCli(['devices', 'list'], { ...env, BOXAGENT_HTTP_PORT: '1' });
    expect(oneLineError(down, 69)).toMatch(/cannot read the admin token|daemon is not running/);

    const daemon = await startDaemon({ storageDir: dir });
    try {
      const port = new URL(daemon.url).port;
      const live = { ...env, BOXAGENT_HTTP_PORT: port };
      await waitFor('devices ready', () =>
        runCli(['devices', 'list', '--json'], live).stdout.includes('"ready"'),
      );
      const list = JSON.parse(runCli(['devices', 'list', '--json'], live).stdout) as {
        id: string;
        state: string;
      }[];
      expect(list.map((d) => d.id)).toContain('printer-1');
      const test = runCli(['devices', 'test', 'seal-1'], live);
      expect(test.status).toBe(0);
      expect(test.stdout).toMatch(/^seal-1: ok/);
      // The self-test never stamps; a real stamp needs --stamp --yes and goes through an audited seal job.
      const jobsBefore = await daemon
        .fetch('/v1/seal-jobs')
        .then((r) => r.json() as Promise<{ jobs: unknown[] }>);
      expect(oneLineError(runCli(['devices', 'test', 'seal-1', '--stamp'], live), 64)).toMatch(/add --yes/);
      const after = await daemon.fetch('/v1/seal-jobs').then((r) => r.json() as Promise<{ jobs: unknown[] }>);
      expect(after.jobs).toHaveLength(jobsBefore.jobs.length);
      const stamped = runCli(
        ['devices', 'test', 'seal-1', '--stamp', '--yes', '--operator', 'Li Ming'],
        live,
      );
      expect(stamped.stderr).toBe('');
      expect(stamped.stdout).toMatch(/seal-1: test stamp done \(seal job [0-9a-f-]+, in the audit log\)/);
      const audit = await daemon.fetch('/v1/audit').then((r) => r.text());
      expect(audit).toContain('Li Ming');
      expect(oneLineError(runCli(['devices', 'test', 'nope'], live), 1)).toMatch(/no device "nope"/);

      // A printer: the self-test, then the calibration page as a preview file and as a real print job.
      const preview = join(dir, 'calibration.png');
      const viewed = runCli(['devices', 'test', 'printer-1', '--preview', preview], live);
      expect(viewed.status).toBe(0);
      const meta = await sharp(preview).metadata();
      expect([meta.width, meta.height]).toEqual([mmToDots(210), mmToDots(297)]);
      const printed = runCli(['devices', 'test', 'printer-1', '--paper', '241x280'], live);
      expect(printed.stderr).toBe('');
      expect(printed.stdout).toMatch(/^printer-1: ok/);
      expect(printed.stdout).toMatch(/calibration page printed \(job [0-9a-f-]+\)/);
      expect(printed.stdout).toContain('boxagent config set devices.printer-1.printer.calibration.xMm');
      expect(oneLineError(runCli(['devices', 'test', 'printer-1', '--paper', 'A4'], live), 64)).toMatch(
        /--paper "A4": expected WIDTHxHEIGHT in mm/,
      );
    } finally {
      await daemon.stop();
    }
    const stopped = runCli(['devices', 'list'], { ...env, BOXAGENT_HTTP_PORT: '9' });
    expect(oneLineError(stopped, 69)).toMatch(/daemon is not running/);
  });
});

describe('doctor', () => {
  it('fails on a broken config with the reason and a fix', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'box:\n  id: x\n  colour: red\n');
    const r = runCli(['doctor', '--json'], testEnv(dir, { BOXAGENT_CONFIG: file }));
    expect(r.status).toBe(1);
    const checks = JSON.parse(r.stdout) as { check: string; verdict: string; detail: string; fix?: string }[];
    expect(checks[0]).toMatchObject({ check: 'config', verdict: 'fail' });
    expect(checks[0]?.detail).toContain('box.colour: unknown key');
    expect(checks[0]?.fix).toBeTruthy();
  });

  it('passes the checks a healthy setup controls, and names a missing device node and a loose key file', () => {
    const dir = scratch();
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'box:\n  id: x\ndevices:\n  - {id: p1, kind: printer, transport: {type: serial, path: /dev/ttyUSB77}}\n',
    );
    writeFileSync(join(dir, 'admin.token'), 'bxa_x\n', { mode: 0o644 });
    const r = runCli(['doctor', '--json'], testEnv(dir, { BOXAGENT_CONFIG: file, BOXAGENT_HTTP_PORT: '1' }));
    const checks = Object.fromEntries(
      (JSON.parse(r.stdout) as { check: string; verdict: string; detail: string }[]).map((c) => [c.check, c]),
    );
    for (const ok of ['config', 'state dir', 'face models', 'clock', 'fleet broker'])
      expect(checks[ok]?.verdict, ok).toBe('ok');
    expect(checks['device p1']).toMatchObject({ verdict: 'fail', detail: '/dev/ttyUSB77 does not exist' });
    expect(checks['key files']?.verdict).toBe('fail');
    expect(r.status).toBe(1);
  });
});

describe('doctor on face models', () => {
  it('names missing models and how to fetch them', () => {
    const dir = scratch();
    const r = runCli(
      ['doctor', '--json'],
      testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG, BOXAGENT_FACE_MODEL_DIR: join(dir, 'no-models') }),
    );
    const checks = JSON.parse(r.stdout) as { check: string; verdict: string; detail: string; fix?: string }[];
    const models = checks.find((c) => c.check === 'face models');
    expect(models).toMatchObject({ verdict: 'fail' });
    expect(models?.detail).toMatch(/fr_detect\.onnx \(detector\) is missing/);
    expect(models?.fix).toMatch(/models\/fetch\.mjs/);
    expect(r.status).toBe(1);
  });
});

describe('audit verify', () => {
  it('passes on an intact log and names the entry that was edited', () => {
    const dir = scratch();
    const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    for (const name of ['a', 'b', 'c'])
      expect(runCli(['token', 'create', '--name', name, '--scopes', 'read'], env).status).toBe(0);
    const ok = runCli(['audit', 'verify'], env);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/intact: 3 entries/);
    const db = new Database(join(dir, 'state.db'));
    db.prepare("UPDATE audit SET actor = 'someone-else' WHERE seq = 2").run();
    db.close();
    expect(oneLineError(runCli(['audit', 'verify'], env), 1)).toMatch(/broken at entry 2/);
  });
});

describe('service install', () => {
  it('puts unit, sysusers, tmpfiles and udev files under a root and prints the activation commands', () => {
    const root = scratch();
    const r = runCli(['service', 'install', '--root', root], testEnv(root));
    expect(r.status).toBe(0);
    for (const f of [
      'etc/systemd/system/boxagent.service',
      'etc/systemd/system/boxagent-backup.service',
      'etc/systemd/system/boxagent-backup.timer',
      'usr/lib/sysusers.d/boxagent.conf',
      'usr/lib/tmpfiles.d/boxagent.conf',
      'etc/udev/rules.d/70-boxagent.rules',
    ]) {
      expect(statSync(join(root, f)).size, f).toBeGreaterThan(0);
    }
    expect(r.stdout).toContain('systemctl enable --now boxagent');
    expect(readFileSync(join(root, 'etc/systemd/system/boxagent.service'), 'utf8')).toContain('Type=notify');
  });
});
