// `boxagent service browser-policy`: a managed policy for Chromium and Chrome on the box that lets the counter
// web app's origins reach the daemon on loopback without Local Network Access prompts (docs/browser-access.md).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveConfigPath } from '../../config/load.js';
import { readConfigText, setKey } from '../../config/edit.js';
import { writeServiceConfig } from './service-user.js';
import { writeFileAtomic } from '../../config/atomic-write.js';
import { CliError, EXIT_USAGE, load, print } from './support.js';

/** Where each browser reads machine-wide mandatory policies on Linux. */
export const POLICY_DIRS = ['/etc/chromium/policies/managed', '/etc/opt/chrome/policies/managed'] as const;
export const POLICY_FILE = 'boxagent.json';

/**
 * The policies written. Only loopback access is granted (the daemon listens on 127.0.0.1), not the whole LAN
 * that LocalNetworkAccessAllowedForUrls would open. An http origin is also declared secure: without that,
 * Chromium 156 refuses its loopback requests before any allow-list is consulted.
 */
const LOOPBACK_ALLOWED = 'LoopbackNetworkAllowedForUrls';
const TREAT_AS_SECURE = 'OverrideSecurityRestrictionsOnInsecureOrigin';

export type BrowserPolicy = Record<string, unknown>;

/** An origin as a browser sends it in `Origin` (scheme, lower-case host, port only when not the default). */
export function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(
      `--origin ${text}: not a URL (write it like https://counter.example.gov.cn)`,
      EXIT_USAGE,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError(`--origin ${text}: only http:// and https:// origins can call the API`, EXIT_USAGE);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new CliError(`--origin ${text}: give the origin only (${url.origin}), without a path`, EXIT_USAGE);
  }
  return url.origin;
}

function listOf(policy: BrowserPolicy, key: string): string[] {
  const value = policy[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The policy with `add` origins allowed and `remove` origins taken out; other keys are kept as they were. */
export function updatePolicy(existing: BrowserPolicy, add: string[], remove: string[]): BrowserPolicy {
  const next: BrowserPolicy = { ...existing };
  const update = (key: string, extra: string[]): void => {
    const list = [...new Set([...listOf(existing, key), ...extra])].filter((o) => !remove.includes(o));
    if (list.length > 0) next[key] = list;
    else delete next[key];
  };
  update(LOOPBACK_ALLOWED, add);
  update(
    TREAT_AS_SECURE,
    add.filter((o) => o.startsWith('http:')),
  );
  return next;
}

function readPolicy(file: string): BrowserPolicy {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as BrowserPolicy;
  } catch {
    // fall through: a file we cannot read as a policy object is not ours to merge into
  }
  throw new CliError(`${file} is not a JSON object; move it away or fix it, then run this again`);
}

function writePolicy(file: string, policy: BrowserPolicy): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Browsers run as the clerk's user: the policy must be readable by everyone, writable by root only.
    writeFileAtomic(file, `${JSON.stringify(policy, null, 2)}\n`, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`cannot write ${file}: run this as root`);
    throw err;
  }
}

export interface BrowserPolicyOptions {
  origin: string[];
  dir?: string;
  remove?: boolean;
  config?: string;
  updateConfig: boolean;
}

export function browserPolicy(opts: BrowserPolicyOptions): void {
  if (opts.origin.length === 0) throw new CliError('give at least one --origin URL', EXIT_USAGE);
  const origins = [...new Set(opts.origin.map(parseOrigin))];
  // Read the config before writing anything, so a config that does not load leaves every file as it was.
  const allowed = opts.remove ? [] : load(opts).config.http.allowedOrigins;
  const dirs = opts.dir !== undefined ? [resolve(opts.dir)] : [...POLICY_DIRS];
  for (const dir of dirs) {
    const file = join(dir, POLICY_FILE);
    const next = opts.remove
      ? updatePolicy(readPolicy(file), [], origins)
      : updatePolicy(readPolicy(file), origins, []);
    if (Object.keys(next).length === 0) {
      rmSync(file, { force: true });
      print(`removed ${file} (no origin left)`);
      continue;
    }
    writePolicy(file, next);
    print(`wrote ${file}`);
  }
  if (opts.remove) {
    print('the origins stay in http.allowedOrigins; take them out with `boxagent config set` if they must');
    print('no longer call the box at all');
    return;
  }
  syncAllowedOrigins(origins, allowed, opts);
  print('restart the browser on the box, then check chrome://policy (an http origin needs the restart)');
}

/** The daemon refuses any origin not in http.allowedOrigins: add the missing ones, or say how. */
function syncAllowedOrigins(origins: string[], current: string[], opts: BrowserPolicyOptions): void {
  const missing = origins.filter((o) => !current.includes(o));
  if (missing.length === 0) {
    print('http.allowedOrigins already lists every origin');
    return;
  }
  const wanted = JSON.stringify([...current, ...missing]);
  if (!opts.updateConfig) {
    print(`not in http.allowedOrigins (the daemon refuses them): ${missing.join(' ')}`);
    print(`to add them: boxagent config set http.allowedOrigins '${wanted}' && systemctl restart boxagent`);
    return;
  }
  const file = resolveConfigPath({ file: opts.config });
  const { backup } = writeServiceConfig(
    file,
    setKey(readConfigText(file), file, 'http.allowedOrigins', wanted),
  );
  print(
    `${file}: added ${missing.join(' ')} to http.allowedOrigins${backup ? ` (previous file: ${backup})` : ''}`,
  );
  print('restart the daemon to apply it: systemctl restart boxagent');
}
