// Rules the schema cannot express: unique device ids, baud rates Linux supports, files the config names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'boxagent-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(text: string, opts: { checkFiles?: boolean; env?: NodeJS.ProcessEnv } = {}): string[] {
  try {
    parseConfig(text, 'cfg.yaml', opts.env ?? {}, { checkFiles: opts.checkFiles });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  return [];
}

describe('semantic checks', () => {
  it('refuses a device id given twice, naming the second entry and its line', () => {
    const text = [
      'box: { id: b }',
      'devices:',
      '  - { id: p1, kind: printer, transport: { type: simulated } }',
      '  - { id: p1, kind: seal, transport: { type: simulated } }',
    ].join('\n');
    expect(problems(text)).toEqual([
      'config error: cfg.yaml:4: devices.1.id: duplicate device id "p1" (also devices.0.id); ids must be unique',
    ]);
  });

  it('refuses a baud rate the kernel has no setting for, and lists the ones it has', () => {
    const text =
      'box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: serial, path: /dev/ttyUSB0, baudRate: 96000 } }\n';
    const [line, ...rest] = problems(text);
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^config error: cfg\.yaml:3: devices\.0\.transport\.baudRate: 96000 is not a baud rate Linux supports; use one of: 50, .*9600, 19200, .*115200, .*4000000$/,
    );
  });

  it('accepts the standard rates', () => {
    for (const rate of [1200, 9600, 38400, 115200, 921600]) {
      expect(
        problems(
          `box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: serial, path: /dev/ttyS0, baudRate: ${rate} } }\n`,
        ),
      ).toEqual([]);
    }
  });
});

describe('files the config names', () => {
  const mqtt = (ca: string): string =>
    `box: { id: b }\nmqtt:\n  url: mqtts://fleet.example:8883\n  ca: ${ca}\n`;

  it('refuses a missing CA file when asked to check files, with the key path', () => {
    const missing = join(dir, 'no-ca.pem');
    expect(problems(mqtt(missing), { checkFiles: true })).toEqual([
      `config error: cfg.yaml:4: mqtt.ca: ${missing} does not exist`,
    ]);
  });

  it('passes when the file is there, and does not look unless asked (config init writes before the files)', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'x');
    expect(problems(mqtt(ca), { checkFiles: true })).toEqual([]);
    expect(problems(mqtt(join(dir, 'no-ca.pem')))).toEqual([]);
  });

  it('names the env variable when the path came from one', () => {
    const missing = join(dir, 'no-pass');
    expect(
      problems('box: { id: b }\nmqtt: { url: "mqtt://h" }\n', {
        checkFiles: true,
        env: { BOXAGENT_MQTT_PASSWORD_FILE: missing },
      }),
    ).toEqual([
      `config error: env BOXAGENT_MQTT_PASSWORD_FILE: mqtt.passwordFile: ${missing} does not exist`,
    ]);
  });

  it('checks a simulated camera images but not device nodes, which may be unplugged at validate time', () => {
    const text = [
      'box: { id: b }',
      'devices:',
      '  - { id: c, kind: camera, transport: { type: simulated }, camera: { simulatedImages: /nonexistent/faces } }',
      '  - { id: v, kind: camera, transport: { type: video }, camera: { source: /dev/video-not-plugged } }',
      '  - { id: p, kind: printer, transport: { type: serial, path: /dev/ttyUSB-not-plugged } }',
    ].join('\n');
    expect(problems(text, { checkFiles: true })).toEqual([
      'config error: cfg.yaml:3: devices.0.camera.simulatedImages: /nonexistent/faces does not exist',
    ]);
  });
});
