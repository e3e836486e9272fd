// `boxagent service install`: puts the systemd unit, sysusers, tmpfiles and udev files in place, then runs
// the commands that activate them, printing each one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, CONFIG_FLAGS, CONFIG_HELP, load, print, printJson, type ConfigOption } from './support.js';
import { browserPolicy, POLICY_DIRS, POLICY_FILE, type BrowserPolicyOptions } from './browser-policy.js';
import { readUdevDb } from './udev-db.js';
import { packageRoot } from './service-user.js';
import { deviceLinks, linksRulesFile, LINKS_RULES_FILE } from './udev-links.js';

/** Where each shipped file goes on a Debian-like system (paths relative to the root). */
const FILES: readonly [string, string][] = [
  ['systemd/boxagent.service', 'etc/systemd/system/boxagent.service'],
  // Installed, not enabled: the timer is enabled once backup.dir and a recipient are configured.
  ['systemd/boxagent-backup.service', 'etc/systemd/system/boxagent-backup.service'],
  ['systemd/boxagent-backup.timer', 'etc/systemd/system/boxagent-backup.timer'],
  ['systemd/sysusers.d/boxagent.conf', 'usr/lib/sysusers.d/boxagent.conf'],
  ['systemd/tmpfiles.d/boxagent.conf', 'usr/lib/tmpfiles.d/boxagent.conf'],
  ['systemd/udev/70-boxagent.rules', 'etc/udev/rules.d/70-boxagent.rules'],
];

const ACTIVATE: readonly string[][] = [
  ['systemd-sysusers'],
  ['systemd-tmpfiles', '--create'],
  ['udevadm', 'control', '--reload'],
  ['udevadm', 'trigger'],
  ['systemctl', 'daemon-reload'],
  ['systemctl', 'enable', '--now', 'boxagent'],
];

function install(opts: { root: string; activate: boolean }): void {
  const root = resolve(opts.root);
  const from = packageRoot();
  if (!from) throw new CliError('cannot find the systemd/ files of this boxagent package');
  for (const [src, dest] of FILES) {
    const target = join(root, dest);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(from, src), target);
    print(`installed ${target}`);
  }
  if (!opts.activate) {
    print('not activated (--no-activate); to activate, run:');
    for (const cmd of ACTIVATE) print(`  ${cmd.join(' ')}`);
    return;
  }
  for (const cmd of ACTIVATE) {
    print(`$ ${cmd.join(' ')}`);
    const r = spawnSync(cmd[0] as string, cmd.slice(1), { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new CliError(
        `"${cmd.join(' ')}" failed${r.error ? `: ${r.error.message}` : ` with exit ${r.status}`}`,
      );
    }
  }
}

export function registerService(program: Command): void {
  const service = program.command('service').description('the systemd service');
  service
    .command('install')
    .description('install unit, sysusers, tmpfiles and udev rules, then enable and start the service')
    .option('--root <dir>', 'install under this root (an image being built); implies --no-activate', '/')
    .option('--no-activate', 'only copy the files; print the commands to run')
    .action((opts: { root: string; activate: boolean }) =>
      install({ root: opts.root, activate: opts.activate && resolve(opts.root) === '/' }),
    );
  service
    .command('links')
    .description(
      'udev rules giving each configured USB device node a stable /dev/boxagent/<id> name (one per port of a ' +
        'multi-port adapter; cameras: the capture node), from what udev knows of the attached devices',
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--write', `write the rules to /${LINKS_RULES_FILE} (under --root)`)
    .option('--root <dir>', 'write under this root instead of / (an image, tests)', '/')
    .option(
      '--udev-db <file>',
      "read udev's device database from FILE (saved `udevadm info --export-db`) instead of asking udevadm",
    )
    .option('--json', 'print JSON')
    .action((opts: LinksOptions) => links(opts));
  service
    .command('browser-policy')
    .description(
      `let the counter web app's origins reach the box without Local Network Access prompts: writes ${POLICY_DIRS.map((d) => `${d}/${POLICY_FILE}`).join(' and ')} and adds the origins to http.allowedOrigins`,
    )
    .option('--origin <url>', 'origin of the counter web app (repeat for more)', collect, [])
    .option('--dir <dir>', `write <dir>/${POLICY_FILE} only (another browser, an image being built)`)
    .option('--remove', 'take the origins out of the policy instead')
    .option('--no-update-config', 'do not change http.allowedOrigins; print the command instead')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .action((opts: BrowserPolicyOptions) => browserPolicy(opts));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface LinksOptions extends ConfigOption {
  write?: boolean;
  root: string;
  json?: boolean;
  udevDb?: string;
}

function links(opts: LinksOptions): void {
  const found = deviceLinks(load(opts).config.devices, () => readUdevDb(opts.udevDb));
  if (opts.json) return printJson(found);
  const text = linksRulesFile(found);
  if (!opts.write) {
    process.stdout.write(text);
  } else {
    const target = join(resolve(opts.root), LINKS_RULES_FILE);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    print(`installed ${target}; to apply now: udevadm control --reload && udevadm trigger`);
  }
  const toChange = found.filter((l) => l.rule && l.configKey);
  if (toChange.length > 0) print('# then point the config at the stable names:');
  for (const l of toChange) print(`#   boxagent config set ${l.configKey} ${l.link}`);
}
