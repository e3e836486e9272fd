import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../config/load.js';
import { DEVICE_KINDS } from '../../../config/schema.js';

const DEFAULT_YAML = fileURLToPath(new URL('../../../config/default.yaml', import.meta.url));
const MINIMAL = 'box:\n  id: box-1\n';

/** Runs `fn`, expects a ConfigError and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, got none');
}

describe('parseConfig: defaults', () => {
  it('fills in every default around a minimal file', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml');
    expect(config.box).toEqual({ id: 'box-1', site: '', locale: 'zh-CN' });
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.port).toBe(8620);
    expect(config.http.allowedOrigins).toEqual([]);
    expect(config.storage.dir).toBe('/var/lib/boxagent');
    expect(config.mqtt.url).toBeUndefined();
    expect(config.mqtt.prefix).toBe('boxagent/v1');
    expect(config.log.level).toBe('info');
    expect(config.supervision.failuresBeforeError).toBeGreaterThanOrEqual(1);
    expect(config.devices).toEqual([]);
  });

  it('keeps values the file gives', () => {
    const config = parseConfig(
      'box:\n  id: box-1\n  site: Village hall\nhttp:\n  port: 9000\nstorage:\n  dir: /srv/box\n',
      'cfg.yaml',
    );
    expect(config.box.site).toBe('Village hall');
    expect(config.http.port).toBe(9000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.storage.dir).toBe('/srv/box');
  });
});

describe('config/default.yaml', () => {
  it('is valid and describes one simulated device of each kind', () => {
    const { config, file } = loadConfig({ file: DEFAULT_YAML, env: {} });
    expect(file).toBe(DEFAULT_YAML);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.port).toBe(8620);
    expect(config.mqtt.url).toBeUndefined();
    expect(config.devices).toHaveLength(DEVICE_KINDS.length);
    expect(config.devices.every((d) => d.transport.type === 'simulated')).toBe(true);
    expect(config.devices.map((d) => d.kind).sort()).toEqual([...DEVICE_KINDS].sort());
    expect(new Set(config.devices.map((d) => d.id)).size).toBe(DEVICE_KINDS.length);
  });
});

describe('parseConfig: problems', () => {
  it('reports an unknown key with its key path and file line', () => {
    const err = configError(() => parseConfig('box:\n  id: box-1\nhttp:\n  prot: 8621\n', 'cfg.yaml'));
    expect(err.problems).toEqual([{ path: 'http.prot', message: 'unknown key', source: 'cfg.yaml:4' }]);
    expect(err.message).toContain('cfg.yaml:4');
    expect(err.message).toContain('http.prot');
    expect(err.file).toBe('cfg.yaml');
  });

  it('reports an unknown top-level key on its line', () => {
    const err = configError(() => parseConfig('box:\n  id: box-1\nhttps:\n  port: 1\n', 'cfg.yaml'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ path: 'https', source: 'cfg.yaml:3' });
  });

  it('names the path of a value of the wrong type', () => {
    const err = configError(() => parseConfig('box:\n  id: box-1\nhttp:\n  port: eighty\n', 'cfg.yaml'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.path).toBe('http.port');
    expect(err.problems[0]?.message).toMatch(/integer/);
    expect(err.problems[0]?.source).toBe('cfg.yaml:4');
  });

  it('names the path inside the device list', () => {
    const text = [
      'box:',
      '  id: box-1',
      'devices:',
      '  - id: p1',
      '    kind: printer',
      '    transport: { type: simulated }',
      '  - id: p2',
      '    kind: toaster',
      '    transport: { type: simulated }',
    ].join('\n');
    const err = configError(() => parseConfig(text, 'cfg.yaml'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.path).toBe('devices.1.kind');
    expect(err.problems[0]?.source).toBe('cfg.yaml:8');
    expect(err.problems[0]?.message).toContain('printer');
  });

  it('reports every problem, one message line each', () => {
    const text = 'box:\n  site: x\nhttp:\n  port: -1\n  colour: blue\nlog:\n  level: loud\n';
    const err = configError(() => parseConfig(text, 'cfg.yaml'));
    const paths = err.problems.map((p) => p.path).sort();
    expect(paths).toEqual(['box.id', 'http.colour', 'http.port', 'log.level']);
    expect(err.problems.find((p) => p.path === 'box.id')?.message).toBe('is required');
    expect(err.message.split('\n')).toHaveLength(4);
    expect(err.message).toContain('cfg.yaml:5: http.colour: unknown key');
  });

  it('requires box.id', () => {
    const err = configError(() => parseConfig('', 'cfg.yaml'));
    expect(err.problems.map((p) => p.path)).toEqual(['box']);
    expect(err.problems[0]?.message).toBe('is required');
  });

  it('gives the line of a YAML syntax error', () => {
    const err = configError(() => parseConfig('box:\n  id: a\n  id: b\n', 'cfg.yaml'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.source).toBe('cfg.yaml:3');
    expect(err.problems[0]?.message).toMatch(/^YAML: /);
  });

  it('gives a line for an unclosed flow sequence', () => {
    const err = configError(() => parseConfig('box:\n  id: box-1\n  site: [unclosed\n', 'cfg.yaml'));
    expect(err.problems[0]?.source).toMatch(/^cfg\.yaml:\d+$/);
    expect(err.message).toMatch(/^config error: cfg\.yaml:\d+: YAML: /);
  });

  it('refuses a document that is not a mapping', () => {
    const err = configError(() => parseConfig('- a\n- b\n', 'cfg.yaml'));
    expect(err.message).toContain('must be a mapping');
  });
});

describe('parseConfig: environment overrides', () => {
  it('overrides a number, converting the text', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_HTTP_PORT: '8621' });
    expect(config.http.port).toBe(8621);
  });

  it('overrides values the file sets and supplies keys it lacks', () => {
    const config = parseConfig('box:\n  id: from-file\n', 'cfg.yaml', {
      BOXAGENT_BOX_ID: 'box-7',
      BOXAGENT_MQTT_URL: 'mqtt://127.0.0.1:1883',
    });
    expect(config.box.id).toBe('box-7');
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.mqtt.prefix).toBe('boxagent/v1');
  });

  it('can supply a required key the file does not have', () => {
    const config = parseConfig('', 'cfg.yaml', { BOXAGENT_BOX_ID: 'box-7' });
    expect(config.box.id).toBe('box-7');
  });

  it('reads a list as comma-separated text', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', {
      BOXAGENT_HTTP_ALLOWED_ORIGINS: 'http://a.example, http://b.example',
    });
    expect(config.http.allowedOrigins).toEqual(['http://a.example', 'http://b.example']);
  });

  it('reads a list as a JSON array', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', {
      BOXAGENT_HTTP_ALLOWED_ORIGINS: '["http://a.example","http://b.example"]',
    });
    expect(config.http.allowedOrigins).toEqual(['http://a.example', 'http://b.example']);
  });

  it('maps camelCase keys to upper snake case', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', {
      BOXAGENT_SUPERVISION_PROBE_INTERVAL_MS: '250',
      BOXAGENT_HTTP_ANNOUNCE_ADMIN_TOKEN: 'true',
    });
    expect(config.supervision.probeIntervalMs).toBe(250);
    expect(config.http.announceAdminToken).toBe(true);
  });

  it('box.locale: zh-CN by default, en from the file or BOXAGENT_BOX_LOCALE, nothing else', () => {
    expect(parseConfig(MINIMAL, 'cfg.yaml').box.locale).toBe('zh-CN');
    expect(parseConfig('box:\n  id: box-1\n  locale: en\n', 'cfg.yaml').box.locale).toBe('en');
    expect(parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_BOX_LOCALE: 'en' }).box.locale).toBe('en');
    const err = configError(() => parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_BOX_LOCALE: 'fr' }));
    expect(err.problems[0]).toMatchObject({ path: 'box.locale', source: 'env BOXAGENT_BOX_LOCALE' });
  });

  it('ignores environment variables outside the BOXAGENT_ prefix and BOXAGENT_CONFIG', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', {
      PATH: '/usr/bin',
      HTTP_PORT: '1',
      BOXAGENT_CONFIG: '/elsewhere.yaml',
    });
    expect(config.http.port).toBe(8620);
  });

  it('names the env var whose value is the wrong type', () => {
    const err = configError(() => parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_HTTP_PORT: 'abc' }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ path: 'http.port', source: 'env BOXAGENT_HTTP_PORT' });
    expect(err.message).toContain('BOXAGENT_HTTP_PORT');
  });

  it('names the env var, not the file line, when the env value overrides a valid file value', () => {
    const err = configError(() =>
      parseConfig('box:\n  id: box-1\nhttp:\n  port: 8620\n', 'cfg.yaml', { BOXAGENT_HTTP_PORT: '70000' }),
    );
    expect(err.problems[0]).toMatchObject({ path: 'http.port', source: 'env BOXAGENT_HTTP_PORT' });
  });

  it('names the env var holding broken JSON', () => {
    const err = configError(() =>
      parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_HTTP_ALLOWED_ORIGINS: '["http://a.example"' }),
    );
    expect(err.problems[0]).toMatchObject({
      path: 'http.allowedOrigins',
      source: 'env BOXAGENT_HTTP_ALLOWED_ORIGINS',
    });
    expect(err.problems[0]?.message).toMatch(/JSON/);
  });

  it('reads a number for a key whose schema is a union of numbers (BOXAGENT_MQTT_PROTOCOL_VERSION=4)', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_MQTT_PROTOCOL_VERSION: '4' });
    expect(config.mqtt.protocolVersion).toBe(4);
    const err = configError(() => parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_MQTT_PROTOCOL_VERSION: '3' }));
    expect(err.problems[0]).toMatchObject({
      path: 'mqtt.protocolVersion',
      source: 'env BOXAGENT_MQTT_PROTOCOL_VERSION',
    });
  });

  it('reads booleans and numbers of nested keys by the schema type at their path', () => {
    const config = parseConfig(MINIMAL, 'cfg.yaml', {
      BOXAGENT_FACE_ENABLED: 'false',
      BOXAGENT_FACE_ENROL_MAX_YAW: '12.5',
      BOXAGENT_MQTT_SIGNING_REPLAY_WINDOW_SECONDS: '60',
    });
    expect(config.face.enabled).toBe(false);
    expect(config.face.enrol.maxYaw).toBe(12.5);
    expect(config.mqtt.signing.replayWindowSeconds).toBe(60);
  });

  it('refuses a non-number for a number key in one line naming the env var', () => {
    const err = configError(() =>
      parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_MQTT_PROTOCOL_VERSION: 'five' }),
    );
    expect(err.problems).toHaveLength(1);
    expect(err.message).toBe(
      'config error: env BOXAGENT_MQTT_PROTOCOL_VERSION: mqtt.protocolVersion: must be a number, got "five"',
    );
  });

  it('refuses a boolean key set to anything but true or false, naming the env var', () => {
    const err = configError(() => parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_FACE_SPINNING: 'yes' }));
    expect(err.message).toBe(
      'config error: env BOXAGENT_FACE_SPINNING: face.spinning: must be true or false, got "yes"',
    );
  });

  it('refuses an env var that names no config key', () => {
    const err = configError(() => parseConfig(MINIMAL, 'cfg.yaml', { BOXAGENT_FOO: '1' }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.source).toBe('env BOXAGENT_FOO');
    expect(err.message).toContain('BOXAGENT_FOO');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxagent-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file named in the options and applies env overrides', () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'box:\n  id: box-a\n');
    const { config } = loadConfig({ file, env: { BOXAGENT_HTTP_PORT: '8621' } });
    expect(config.box.id).toBe('box-a');
    expect(config.http.port).toBe(8621);
  });

  it('falls back to BOXAGENT_CONFIG', () => {
    const file = join(dir, 'b.yaml');
    writeFileSync(file, 'box:\n  id: box-b\n');
    const loaded = loadConfig({ env: { BOXAGENT_CONFIG: file } });
    expect(loaded.file).toBe(file);
    expect(loaded.config.box.id).toBe('box-b');
  });

  it('names the file and its line in problems', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'box:\n  id: box-c\n  colour: red\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.message).toContain(`${file}:3: box.colour: unknown key`);
  });

  it('says clearly that the file is missing', () => {
    const file = join(dir, 'missing.yaml');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.message).toBe(`config error: ${file}: file not found`);
  });
});

describe('config/examples/idcard-reader.yaml', () => {
  it('is valid: a serial reader at 115200 with its idcard options', () => {
    const file = fileURLToPath(new URL('../../../config/examples/idcard-reader.yaml', import.meta.url));
    const { config } = loadConfig({ file, env: {} });
    const reader = config.devices[0];
    expect(reader).toMatchObject({
      kind: 'idcard',
      transport: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
      idcard: { pollIntervalMs: 1000, revealIdNumber: false, freshnessMs: 60000 },
    });
  });

  it('names a wrong idcard option with its key path', () => {
    const yaml = [
      'box:',
      '  id: box-1',
      'devices:',
      '  - id: r',
      '    kind: idcard',
      '    transport: { type: simulated }',
      '    idcard: { pollIntervalMs: 5, masked: true }',
      '',
    ].join('\n');
    const err = configError(() => parseConfig(yaml, 'cfg.yaml'));
    expect(err.problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      'devices.0.idcard.masked: unknown key',
      'devices.0.idcard.pollIntervalMs: must be >= 100',
    ]);
  });
});
