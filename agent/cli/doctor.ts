// `boxagent doctor`: every check an installer would otherwise do by hand, each with a verdict and a fix.
import {
  constants,
  accessSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config, DeviceConfig, DeviceKind } from '../../config/schema.js';
import { KIND_UNITS, kindOf } from '../kinds/index.js';
import { loadManifest, ModelError, resolveModels } from '../../models/manifest.js';
import { KEY_FILE } from '../face/template-cipher.js';
import { BOOTSTRAP_TOKEN_FILE } from '../main.js';
import { refuseSilentReset } from '../store/state-dir.js';
import { DB_FILE, Store } from '../store/store.js';
import { checkFleetConfig } from './fleet-config-check.js';
import { CliError, CONFIG_FLAGS, CONFIG_HELP, print, printJson, type ConfigOption } from './support.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  verdict: Verdict;
  detail: string;
  fix?: string;
}

const SERVICE_GROUPS = ['dialout', 'lp', 'plugdev', 'video'];
const UDEV_RULES = '/etc/udev/rules.d/70-boxagent.rules';

function result(check: string, verdict: Verdict, detail: string, fix?: string): CheckResult {
  return fix ? { check, verdict, detail, fix } : { check, verdict, detail };
}

function checkStateDir(config: Config): CheckResult {
  const dir = resolve(config.storage.dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'x');
    rmSync(probe);
    return result('state dir', 'ok', `${dir} is writable`);
  } catch (err) {
    return result(
      'state dir',
      'fail',
      `${dir}: ${(err as Error).message}`,
      `chown boxagent: ${dir} && chmod 700 ${dir}`,
    );
  }
}

function checkKeyFiles(config: Config): CheckResult {
  const file = join(resolve(config.storage.dir), BOOTSTRAP_TOKEN_FILE);
  if (!existsSync(file)) return result('key files', 'ok', 'no admin token file yet (written at first start)');
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return result(
      'key files',
      'fail',
      `${file} is readable by others (mode ${mode.toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  return result('key files', 'ok', `${file} is private (0${mode.toString(8)})`);
}

/**
 * The database and the face key, read as the daemon would at start: a missing or damaged state.db in a used
 * state dir, and a missing face.key while encrypted templates are stored, each with the way out.
 */
function checkState(config: Config): CheckResult[] {
  const dir = resolve(config.storage.dir);
  const file = join(dir, DB_FILE);
  const wayOut = 'restore it from the backup, or boxagent reset --yes (moves the old state aside)';
  if (!existsSync(file)) {
    try {
      refuseSilentReset(dir, file);
    } catch (err) {
      return [result('state database', 'fail', (err as Error).message, wayOut)];
    }
    return [result('state database', 'ok', `no ${DB_FILE} yet (made at first start)`)];
  }
  let store: Store;
  try {
    store = Store.open(dir);
  } catch (err) {
    return [result('state database', 'fail', (err as Error).message, wayOut)];
  }
  try {
    const integrity = store.integrityCheck();
    if (integrity !== 'ok') {
      return [result('state database', 'fail', `${file} is damaged (${integrity})`, wayOut)];
    }
    const templates = store.persons.templateCount();
    const key = join(dir, KEY_FILE);
    return [
      result('state database', 'ok', `${file} passes the quick check`),
      templates > 0 && !existsSync(key)
        ? result(
            'face key',
            'fail',
            `${key} is missing while ${templates} encrypted face templates are stored; face recognition is unavailable`,
            `restore ${KEY_FILE} from the backup, or boxagent persons purge --yes (erases every person)`,
          )
        : result(
            'face key',
            'ok',
            existsSync(key) ? `${key} present` : 'no face key yet (made at first use)',
          ),
    ];
  } finally {
    store.close();
  }
}

/** The device node a configured device uses, and the group that gives the service user access to it. */
function deviceNode(d: DeviceConfig): { path: string; group: string } | undefined {
  const t = d.transport;
  if (t.type === 'serial') return { path: t.path, group: 'dialout' };
  if (t.type === 'usblp') return { path: t.path, group: 'lp' };
  return kindOf<DeviceKind>(d.kind).deviceNode?.(d);
}

/** Each configured device node: present, and readable and writable by this user. */
function checkDeviceNodes(config: Config): CheckResult[] {
  return config.devices.flatMap((d) => {
    const node = deviceNode(d);
    if (!node) return [];
    if (!existsSync(node.path)) {
      return [
        result(
          `device ${d.id}`,
          'fail',
          `${node.path} does not exist`,
          'plug the device in, or run `boxagent devices scan` for its path',
        ),
      ];
    }
    try {
      accessSync(node.path, constants.R_OK | constants.W_OK);
      return [result(`device ${d.id}`, 'ok', `${node.path} present and accessible`)];
    } catch {
      return [
        result(
          `device ${d.id}`,
          'fail',
          `${node.path} is not readable and writable by this user`,
          `add the service user to group ${node.group} (see the udev rules)`,
        ),
      ];
    }
  });
}

/** Each kind's own checks (ffmpeg for cameras), given the configured devices of that kind. */
function checkKinds(config: Config): CheckResult[] {
  return KIND_UNITS.flatMap(
    (unit) => unit.doctor?.(config.devices.filter((d) => d.kind === unit.kind) as never[]) ?? [],
  );
}

function checkGroups(): CheckResult {
  let groups: string;
  try {
    groups = readFileSync('/etc/group', 'utf8');
  } catch {
    return result('service user groups', 'warn', 'cannot read /etc/group');
  }
  const missing = SERVICE_GROUPS.filter((g) => {
    const line = groups.split('\n').find((l) => l.startsWith(`${g}:`));
    return !line || !(line.split(':')[3] ?? '').split(',').includes('boxagent');
  });
  if (missing.length === 0)
    return result('service user groups', 'ok', `boxagent is in ${SERVICE_GROUPS.join(', ')}`);
  return result(
    'service user groups',
    'fail',
    `boxagent is not in: ${missing.join(', ')}`,
    'boxagent service install (or systemd-sysusers)',
  );
}

function checkUdev(): CheckResult {
  return existsSync(UDEV_RULES)
    ? result('udev rules', 'ok', `${UDEV_RULES} installed`)
    : result('udev rules', 'fail', `${UDEV_RULES} missing`, 'boxagent service install');
}

function checkModels(config: Config): CheckResult {
  if (!config.face.enabled)
    return result('face models', 'ok', 'face recognition is disabled (face.enabled: false)');
  try {
    const models = resolveModels(loadManifest(), config.face.modelDir);
    return result(
      'face models',
      'ok',
      `${Object.keys(models).length} models present, sha256 as in the manifest`,
    );
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    return result(
      'face models',
      'fail',
      err.message,
      'node models/fetch.mjs (in the boxagent folder), or set face.modelDir',
    );
  }
}

function checkClock(): CheckResult {
  // The RTC of a box that sat unpowered often restarts at its epoch; tokens and logs then go wrong.
  const built = statSync(new URL(import.meta.url)).mtime;
  const now = new Date();
  if (now.getTime() < built.getTime() - 86_400_000) {
    return result(
      'clock',
      'fail',
      `the clock says ${now.toISOString()}, before this software was installed (${built.toISOString()})`,
      'timedatectl set-ntp true, or set the time',
    );
  }
  return result('clock', 'ok', now.toISOString());
}

function probeTcp(host: string, port: number, tls: boolean, timeoutMs = 3000): Promise<string | null> {
  return new Promise((done) => {
    const socket = tls ? tlsConnect({ host, port, servername: host }) : connect({ host, port });
    const finish = (err: string | null) => {
      socket.destroy();
      done(err);
    };
    socket.setTimeout(timeoutMs, () => finish(`no answer within ${timeoutMs} ms`));
    socket.once(tls ? 'secureConnect' : 'connect', () => finish(null));
    socket.once('error', (e: Error) => finish(e.message));
  });
}

async function checkHttp(config: Config): Promise<CheckResult> {
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}/openapi.json`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const doc = (await res.json()) as { info?: { title?: string } };
    if (doc.info?.title === 'boxagent local API')
      return result('http port', 'ok', `the daemon answers on ${host}:${config.http.port}`);
    return result(
      'http port',
      'fail',
      `something else answers on ${host}:${config.http.port}`,
      'free the port or set http.port',
    );
  } catch {
    const err = await probeTcp(host, config.http.port, false, 1000);
    if (err === null)
      return result(
        'http port',
        'fail',
        `${host}:${config.http.port} is taken by another program`,
        'free the port or set http.port',
      );
    return result('http port', 'ok', `${host}:${config.http.port} is free (the daemon is not running)`);
  }
}

async function checkBroker(config: Config): Promise<CheckResult> {
  if (!config.mqtt.url) return result('fleet broker', 'ok', 'no fleet link configured (mqtt.url unset)');
  const url = new URL(config.mqtt.url);
  const tls = url.protocol === 'mqtts:' || url.protocol === 'wss:';
  const port = Number(url.port) || (tls ? 8883 : 1883);
  const err = await probeTcp(url.hostname, port, tls);
  if (err === null)
    return result('fleet broker', 'ok', `${url.hostname}:${port} reachable${tls ? ' with TLS' : ''}`);
  return result(
    'fleet broker',
    'fail',
    `${url.hostname}:${port}: ${err}`,
    'check the network, mqtt.url and mqtt.ca',
  );
}

export async function runChecks(opts: ConfigOption): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig({ file: opts.config }).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [
      result(
        'config',
        'fail',
        err.message.split('\n').join('; '),
        'boxagent config validate, then config set or config init',
      ),
    ];
  }
  return [
    result('config', 'ok', 'valid'),
    checkStateDir(config),
    checkKeyFiles(config),
    ...checkState(config),
    ...checkDeviceNodes(config),
    ...checkKinds(config),
    checkGroups(),
    checkUdev(),
    checkModels(config),
    checkClock(),
    await checkHttp(config),
    await checkBroker(config),
    ...checkFleetConfig(config),
  ];
}

const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the install: config, state dir, keys, database, face key, devices, ffmpeg, ID card photo decoders, groups, udev, face models, clock, port, broker',
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(async (opts: ConfigOption & { json?: boolean }) => {
      const results = await runChecks(opts);
      if (opts.json) printJson(results);
      else {
        for (const r of results) {
          print(`${MARK[r.verdict]}  ${r.check}: ${r.detail}`);
          if (r.fix) print(`      fix: ${r.fix}`);
        }
      }
      const failed = results.filter((r) => r.verdict === 'fail').length;
      if (failed > 0) throw new CliError(`${failed} check(s) failed`);
    });
}
