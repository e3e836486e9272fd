// `boxagent doctor`: every check an installer would otherwise do by hand, each with a verdict and a fix.
// The checks are small functions in CHECKS, each given the same context; access is checked as the service
// user (see access-probe.ts), since root can open everything and would hide what the daemon will meet.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config, DeviceConfig, DeviceKind } from '../../config/schema.js';
import { KIND_UNITS, kindOf } from '../kinds/index.js';
import { loadManifest, ModelError, resolveModels } from '../../models/manifest.js';
import { KEY_FILE } from '../face/template-cipher.js';
import { BOOTSTRAP_TOKEN_FILE } from '../store/state-dir.js';
import { AUDIT_KEY_FILE } from '../store/audit.js';
import { refuseSilentReset } from '../store/state-dir.js';
import { DB_FILE, Store } from '../store/store.js';
import { checkAccess, type AccessAnswer, type AccessRequest } from './access-probe.js';
import { DaemonClient } from './daemon-client.js';
import { serviceAccount, unitSupplementaryGroups, type ServiceAccount } from './service-user.js';
import { checkFleetConfig } from './fleet-config-check.js';
import { CliError, CONFIG_FLAGS, CONFIG_HELP, print, printJson, type ConfigOption } from './support.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  verdict: Verdict;
  detail: string;
  fix?: string;
}

/** What every check is given. */
export interface DoctorContext {
  config: Config;
  /** The config file. */
  file: string;
  /** The service user (storage.owner), when it exists on this system. */
  account: ServiceAccount | undefined;
  /** Who the access answers are for, as said in the messages: `boxagent`, or this user when not root. */
  who: string;
  /** Whether the answers are really the service user's (run as root or as that user). */
  asService: boolean;
  access: Map<string, AccessAnswer>;
}

type Check = (ctx: DoctorContext) => CheckResult | CheckResult[] | Promise<CheckResult | CheckResult[]>;

const FALLBACK_GROUPS = ['dialout', 'lp', 'plugdev', 'video'];
// `boxagent service install` writes the rules under /etc; the Debian package ships them under /usr/lib (and
// /lib on systems without the merged /usr).
const UDEV_RULES = [
  '/etc/udev/rules.d/70-boxagent.rules',
  '/usr/lib/udev/rules.d/70-boxagent.rules',
  '/lib/udev/rules.d/70-boxagent.rules',
];
/** Files in the state dir holding secrets: the daemon must read them, nobody else may. */
const STATE_KEY_FILES = [BOOTSTRAP_TOKEN_FILE, KEY_FILE, AUDIT_KEY_FILE];

function result(check: string, verdict: Verdict, detail: string, fix?: string): CheckResult {
  return fix ? { check, verdict, detail, fix } : { check, verdict, detail };
}

const stateDirOf = (config: Config): string => resolve(config.storage.dir);
const ownerName = (ctx: DoctorContext): string => ctx.account?.user ?? ctx.config.storage.owner;
const chownFix = (ctx: DoctorContext): string => `chown -R ${ownerName(ctx)}: ${stateDirOf(ctx.config)}`;

/** Files the config names that the daemon reads (broker password and certificates). */
function configuredFiles(config: Config): string[] {
  const { passwordFile, ca, cert, key } = config.mqtt;
  return [passwordFile, ca, cert, key].filter((f): f is string => typeof f === 'string');
}

/** Every path whose access the service user needs, and how. */
function accessPlan(config: Config, file: string): AccessRequest[] {
  const dir = stateDirOf(config);
  const present = (p: string): boolean => existsSync(p);
  return [
    { path: file, mode: 'r' as const },
    ...(present(dir) ? [{ path: dir, mode: 'rwx' as const, writeProbe: true }] : []),
    ...[DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]
      .map((n) => join(dir, n))
      .filter(present)
      .map((path) => ({ path, mode: 'rw' as const })),
    ...[...STATE_KEY_FILES.map((n) => join(dir, n)), ...configuredFiles(config)]
      .filter(present)
      .map((path) => ({ path, mode: 'r' as const })),
    ...config.devices
      .map(deviceNode)
      .filter((n): n is { path: string; group: string } => n !== undefined && present(n.path))
      .map((n) => ({ path: n.path, mode: 'rw' as const })),
  ];
}

const PROBE = fileURLToPath(new URL('./access-probe.js', import.meta.url));

/**
 * Answers the plan as the service user: run as root, in a child process that becomes it; run as it, here.
 * As anyone else the answers are this user's own, and the service user check says so.
 */
function probeAccess(
  plan: AccessRequest[],
  account: ServiceAccount | undefined,
): { answers: AccessAnswer[]; who: string; asService: boolean } {
  const uid = process.getuid?.();
  const self = `this user (uid ${uid ?? '?'})`;
  if (account && uid === account.uid)
    return { answers: checkAccess(plan), who: account.user, asService: true };
  if (account && uid === 0) {
    const identity = { uid: account.uid, gid: account.gid, groups: account.groups };
    const r = spawnSync(process.execPath, [PROBE, JSON.stringify({ identity, requests: plan })], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.status === 0) {
      return { answers: JSON.parse(r.stdout) as AccessAnswer[], who: account.user, asService: true };
    }
  }
  return { answers: checkAccess(plan), who: self, asService: false };
}

function checkServiceUser(ctx: DoctorContext): CheckResult {
  const name = ctx.config.storage.owner;
  if (!ctx.account) {
    return result(
      'service user',
      'fail',
      `there is no user ${name} on this system; access was checked as ${ctx.who}`,
      'install the boxagent package, or boxagent service install (systemd-sysusers makes the user)',
    );
  }
  if (!ctx.asService) {
    return result(
      'service user',
      'warn',
      `access was checked as ${ctx.who}, not as ${name}`,
      `run it as root (sudo boxagent doctor) to check as ${name}`,
    );
  }
  return result('service user', 'ok', `${name} (uid ${ctx.account.uid}); access checked as it`);
}

const answer = (ctx: DoctorContext, path: string): AccessAnswer | undefined => ctx.access.get(path);

function checkConfigAccess(ctx: DoctorContext): CheckResult {
  const a = answer(ctx, ctx.file);
  if (!a || a.ok) return result('config access', 'ok', `${ctx.file} is readable by ${ctx.who}`);
  const group = ctx.account?.group ?? ctx.config.storage.owner;
  return result(
    'config access',
    'fail',
    `${ctx.file} is not readable by ${ctx.who} (${a.error}): the service exits with 78 at start`,
    `chown root:${group} ${ctx.file} && chmod 640 ${ctx.file}`,
  );
}

function checkStateDir(ctx: DoctorContext): CheckResult {
  const dir = stateDirOf(ctx.config);
  if (!existsSync(dir)) {
    return result(
      'state dir',
      'warn',
      `${dir} does not exist yet (systemd makes it at the first start)`,
      'systemd-tmpfiles --create, or start the service',
    );
  }
  const a = answer(ctx, dir);
  if (a && !a.ok) {
    return result(
      'state dir',
      'fail',
      `${dir} is not writable by ${ctx.who} (${a.error})`,
      `chown ${ownerName(ctx)}: ${dir} && chmod 700 ${dir}`,
    );
  }
  return result('state dir', 'ok', `${dir} is writable by ${ctx.who}`);
}

/** Entries under `dir` not owned by `uid`, depth first, at most `max`. */
function foreignEntries(dir: string, uid: number, max = 5): { path: string; uid: number }[] {
  const found: { path: string; uid: number }[] = [];
  const walk = (path: string): void => {
    if (found.length >= max) return;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.uid !== uid) found.push({ path, uid: st.uid });
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

/**
 * The state database writable by the service user, and nothing in the state dir owned by another user: a
 * state.db made by root (`token create` before the first start) loops the daemon on "readonly database".
 */
function checkStateFiles(ctx: DoctorContext): CheckResult {
  const dir = stateDirOf(ctx.config);
  const db = join(dir, DB_FILE);
  const dbAnswer = answer(ctx, db);
  const foreign = ctx.account && existsSync(dir) ? foreignEntries(dir, ctx.account.uid) : [];
  const dbForeign = foreign.find((f) => f.path === db);
  if ((dbAnswer && !dbAnswer.ok) || dbForeign) {
    const owner = dbForeign
      ? ` is owned by ${dbForeign.uid === 0 ? 'root' : `uid ${dbForeign.uid}`} and`
      : '';
    return result(
      'state files',
      'fail',
      `${db}${owner} is not writable by ${ctx.who}${dbAnswer?.error ? ` (${dbAnswer.error})` : ''}: the daemon fails with "attempt to write a readonly database"`,
      chownFix(ctx),
    );
  }
  if (foreign.length > 0) {
    return result(
      'state files',
      'fail',
      `not owned by ${ownerName(ctx)}: ${foreign.map((f) => f.path).join(', ')}`,
      chownFix(ctx),
    );
  }
  return result(
    'state files',
    'ok',
    existsSync(db) ? `${db} is writable by ${ctx.who}` : `no ${DB_FILE} yet (made at first start)`,
  );
}

/** Secrets: private to the owner (mode), and readable by the service user. */
function checkKeyFiles(ctx: DoctorContext): CheckResult {
  const dir = stateDirOf(ctx.config);
  const token = join(dir, BOOTSTRAP_TOKEN_FILE);
  if (existsSync(token)) {
    const mode = statSync(token).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      return result(
        'key files',
        'fail',
        `${token} is readable by others (mode ${mode.toString(8)})`,
        `chmod 600 ${token}`,
      );
    }
  }
  const stateFiles = STATE_KEY_FILES.map((n) => join(dir, n));
  const unreadable = [...stateFiles, ...configuredFiles(ctx.config)].filter(
    (f) => answer(ctx, f)?.ok === false,
  );
  if (unreadable.length > 0) {
    const inState = unreadable.filter((f) => stateFiles.includes(f));
    const group = ctx.account?.group ?? ctx.config.storage.owner;
    return result(
      'key files',
      'fail',
      `not readable by ${ctx.who}: ${unreadable.join(', ')}`,
      inState.length > 0
        ? chownFix(ctx)
        : `chgrp ${group} ${unreadable.join(' ')} && chmod 640 ${unreadable.join(' ')}`,
    );
  }
  const present = [...stateFiles, ...configuredFiles(ctx.config)].filter((f) => existsSync(f));
  if (present.length === 0) return result('key files', 'ok', 'no key files yet (written at first start)');
  return result('key files', 'ok', `${present.join(', ')} private and readable by ${ctx.who}`);
}

/**
 * The database and the face key, read as the daemon would at start: a missing or damaged state.db in a used
 * state dir, and a missing face.key while encrypted templates are stored, each with the way out.
 */
function checkState({ config }: DoctorContext): CheckResult[] {
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
  // A hidraw node named in the config (seal machines and card readers as well as rating pads).
  if (t.type === 'hid' && t.path !== undefined) return { path: t.path, group: 'plugdev' };
  return kindOf<DeviceKind>(d.kind).deviceNode?.(d);
}

/** Each configured device node: present, and readable and writable by the service user. */
function checkDeviceNodes(ctx: DoctorContext): CheckResult[] {
  return ctx.config.devices.flatMap((d) => {
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
    const a = answer(ctx, node.path);
    if (!a || a.ok)
      return [result(`device ${d.id}`, 'ok', `${node.path} present and accessible to ${ctx.who}`)];
    return [
      result(
        `device ${d.id}`,
        'fail',
        `${node.path} is not readable and writable by ${ctx.who} (${a.error})`,
        `add ${ownerName(ctx)} to group ${node.group} (boxagent service install), or check the udev rules`,
      ),
    ];
  });
}

/** Each kind's own checks (ffmpeg for cameras), given the configured devices of that kind. */
function checkKinds({ config }: DoctorContext): CheckResult[] {
  return KIND_UNITS.flatMap(
    (unit) => unit.doctor?.(config.devices.filter((d) => d.kind === unit.kind) as never[]) ?? [],
  );
}

/** Membership in the device groups, for `sudo -u boxagent boxagent devices test` (the unit adds them itself). */
function checkGroups(ctx: DoctorContext): CheckResult {
  const user = ownerName(ctx);
  const wanted = unitSupplementaryGroups();
  const names = wanted.length > 0 ? wanted : FALLBACK_GROUPS;
  let groups: string;
  try {
    groups = readFileSync('/etc/group', 'utf8');
  } catch {
    return result('service user groups', 'warn', 'cannot read /etc/group');
  }
  const missing = names.filter((g) => {
    const line = groups.split('\n').find((l) => l.startsWith(`${g}:`));
    return !line || !(line.split(':')[3] ?? '').split(',').includes(user);
  });
  if (missing.length === 0) return result('service user groups', 'ok', `${user} is in ${names.join(', ')}`);
  return result(
    'service user groups',
    'fail',
    `${user} is not in: ${missing.join(', ')}`,
    'boxagent service install (or systemd-sysusers)',
  );
}

function checkUdev(): CheckResult {
  const found = UDEV_RULES.find((f) => existsSync(f));
  return found
    ? result('udev rules', 'ok', `${found} installed`)
    : result('udev rules', 'fail', `${UDEV_RULES.join(' or ')} missing`, 'boxagent service install');
}

function checkModels({ config }: DoctorContext): CheckResult {
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

/** Simulated devices answer whatever happens: left in a production config, the box pretends to print. */
function checkSimulated({ config, file }: DoctorContext): CheckResult {
  const simulated = config.devices.filter((d) => d.transport.type === 'simulated').map((d) => d.id);
  if (simulated.length === 0) return result('simulated devices', 'ok', 'none configured');
  const production = process.env.NODE_ENV === 'production' || resolve(file).startsWith('/etc/');
  if (!production)
    return result('simulated devices', 'ok', `${simulated.join(', ')} (a development or training config)`);
  return result(
    'simulated devices',
    'warn',
    `${simulated.join(', ')} simulated in a production config: nothing real is printed, read or sealed`,
    'boxagent devices scan, then boxagent config init --force or config set devices.<id>.transport',
  );
}

/** `timedatectl show -p NTPSynchronized --value`: yes, no, or undefined when it cannot tell. */
function ntpSynchronized(): string | undefined {
  const r = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const value = r.status === 0 ? r.stdout.trim() : '';
  return value === 'yes' || value === 'no' ? value : undefined;
}

function checkClock(): CheckResult {
  // The RTC of a box that sat unpowered often restarts at its epoch; tokens and logs then go wrong.
  const built = statSync(new URL(import.meta.url)).mtime;
  const now = new Date();
  const fix = 'timedatectl set-ntp true, or set the time';
  if (now.getTime() < built.getTime() - 86_400_000) {
    return result(
      'clock',
      'fail',
      `the clock says ${now.toISOString()}, before this software was installed (${built.toISOString()})`,
      fix,
    );
  }
  if (now.getUTCFullYear() > built.getUTCFullYear() + 20)
    return result('clock', 'fail', `the clock says ${now.toISOString()}, decades ahead`, fix);
  // The fleet link reports no skew against the broker yet; NTP is what keeps the clock right.
  const ntp = ntpSynchronized();
  if (ntp === 'no')
    return result(
      'clock',
      'warn',
      `${now.toISOString()}, not synchronized by NTP`,
      'timedatectl set-ntp true',
    );
  return result('clock', 'ok', `${now.toISOString()}${ntp === 'yes' ? ', NTP synchronized' : ''}`);
}

/** The service state from systemd; without a running systemd (a container, a chroot) it cannot tell. */
function checkService(): CheckResult {
  const r = spawnSync('systemctl', ['is-active', 'boxagent'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error)
    return result('service', 'warn', `cannot tell: systemctl is not available (${r.error.message})`);
  const state = r.stdout.trim();
  if (state === 'active' || state === 'reloading')
    return result('service', 'ok', 'boxagent.service is active');
  if (state === 'activating') return result('service', 'warn', 'boxagent.service is starting');
  if (['inactive', 'failed', 'deactivating'].includes(state)) {
    return result(
      'service',
      'fail',
      `boxagent.service is ${state}`,
      state === 'failed'
        ? 'boxagent logs (why it stopped), then systemctl restart boxagent'
        : 'systemctl enable --now boxagent',
    );
  }
  const why = (r.stderr.trim().split('\n')[0] ?? '') || state || `exit ${r.status}`;
  return result('service', 'warn', `cannot tell: ${why}`);
}

interface LiveDevice {
  id: string;
  state: string;
  reason: string | null;
  detail: string | null;
  conditions: { code: string; reason?: string }[];
}

/** Each configured device as the running daemon sees it: answering, or not with the reason. */
async function checkDevicesLive({ config }: DoctorContext): Promise<CheckResult[]> {
  if (config.devices.length === 0) return [];
  let live: LiveDevice[];
  try {
    live = (await DaemonClient.fromConfig(config).call<{ devices: LiveDevice[] }>('GET', '/v1/devices'))
      .devices;
  } catch (err) {
    return [result('devices answering', 'warn', `cannot ask the daemon: ${(err as Error).message}`)];
  }
  return config.devices.map((d) => {
    const name = `device ${d.id} answering`;
    const row = live.find((l) => l.id === d.id);
    if (!row) {
      return result(
        name,
        'warn',
        'not known to the running daemon (the config changed since it started)',
        'systemctl restart boxagent',
      );
    }
    const why = [row.reason, row.detail].filter(Boolean).join(': ');
    if (row.state === 'ready' || row.state === 'busy') {
      if (row.conditions.length === 0) return result(name, 'ok', row.state);
      return result(name, 'warn', `${row.state}, but ${why || row.conditions.map((c) => c.code).join(', ')}`);
    }
    if (row.state === 'opening') return result(name, 'warn', 'being opened');
    return result(
      name,
      'fail',
      `${row.state}${why ? `: ${why}` : ''}`,
      `check its cable and power, then boxagent devices test ${d.id}`,
    );
  });
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

async function checkHttp({ config }: DoctorContext): Promise<CheckResult> {
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

async function checkBroker({ config }: DoctorContext): Promise<CheckResult> {
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

/** Every check, in the order printed. A new one is a function here. */
const CHECKS: Check[] = [
  checkServiceUser,
  checkConfigAccess,
  checkStateDir,
  checkStateFiles,
  checkKeyFiles,
  checkState,
  checkDeviceNodes,
  checkKinds,
  checkGroups,
  checkUdev,
  checkModels,
  checkSimulated,
  checkClock,
  checkHttp,
  checkService,
  checkDevicesLive,
  checkBroker,
  (ctx) => checkFleetConfig(ctx.config),
];

export async function runChecks(opts: ConfigOption): Promise<CheckResult[]> {
  let loaded;
  try {
    loaded = loadConfig({ file: opts.config });
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
  const { config, file } = loaded;
  const account = serviceAccount(config);
  const { answers, who, asService } = probeAccess(accessPlan(config, file), account);
  const ctx: DoctorContext = {
    config,
    file,
    account,
    who,
    asService,
    access: new Map(answers.map((a) => [a.path, a])),
  };
  const results: CheckResult[] = [result('config', 'ok', 'valid')];
  for (const check of CHECKS) results.push(...[await check(ctx)].flat());
  return results;
}

const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the install as the service user: config, state dir and files, keys, database, face key, device nodes, ffmpeg, ID card photo decoders, groups, udev, face models, simulated devices, clock, port, service, devices answering, broker',
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
