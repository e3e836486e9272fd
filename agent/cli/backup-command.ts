// `boxagent backup create|restore|keygen`: one encrypted file holding an online snapshot of state.db and the
// state dir's key files, and the way back from it. The keys never touch the disk in clear outside the state
// dir: the snapshot is taken into a 0700 work folder inside the state dir and removed; the rest is in memory.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { fsyncDir, writeFileAtomic } from '../../config/atomic-write.js';
import { BACKUP_PASSPHRASE_ENV, type LoadedConfig } from '../../config/load.js';
import { type AuditCheck } from '../store/audit.js';
import { DB_FILE, Store } from '../store/store.js';
import { BACKUP_KEY_FILES, gatherState, writeSealedBackup } from '../backup/state-backup.js';
import { VERSION } from '../version.js';
import {
  BackupError,
  keyFingerprint,
  newRecipientPair,
  openBackup,
  readBackupHeader,
  readIdentity,
  readRecipient,
  type BackupHeader,
  type Opening,
  type Sealing,
} from '../backup/backup-format.js';
import { DaemonClient } from './daemon-client.js';
import { daemonAnswers, moveStateAside } from './reset-command.js';
import { watchStateDir } from './service-user.js';
import {
  CliError,
  CONFIG_FLAGS,
  CONFIG_HELP,
  EXIT_USAGE,
  load,
  print,
  printJson,
  withStore,
  type ConfigOption,
} from './support.js';
import { approver } from './token-commands.js';

const RESTORABLE = new Set<string>([DB_FILE, ...BACKUP_KEY_FILES]);
const PASSPHRASE_ENV = BACKUP_PASSPHRASE_ENV;
const MIN_PASSPHRASE = 10;

interface SecretOptions {
  passphraseFile?: string;
}
interface CreateOptions extends ConfigOption, SecretOptions {
  recipient?: string;
  force?: boolean;
  json?: boolean;
}
interface RestoreOptions extends ConfigOption, SecretOptions {
  identity?: string;
  force?: boolean;
  json?: boolean;
}

/** What a database holds, counted so create and restore can be compared at a glance. */
interface Counts {
  tokens: number;
  persons: number;
  templates: number;
  jobs: number;
  audit: number;
}

function countRows(file: string): Counts {
  const db = new Database(file, { fileMustExist: true });
  try {
    const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      tokens: n('tokens'),
      persons: n('persons'),
      templates: n('face_templates'),
      jobs: n('jobs'),
      audit: n('audit'),
    };
  } finally {
    db.close();
  }
}

// ---- secrets ----

function readSecretFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new CliError(
      `cannot read the passphrase file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Reads a line on the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(question);
  return new Promise((res) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      res(answer);
    });
  });
}

/** --passphrase-file, else $BOXAGENT_BACKUP_PASSPHRASE, else a prompt on a terminal (twice when making). */
async function passphrase(opts: SecretOptions, confirm: boolean): Promise<string> {
  let value: string | undefined;
  if (opts.passphraseFile !== undefined) value = readSecretFile(opts.passphraseFile);
  else if (process.env[PASSPHRASE_ENV] !== undefined) value = process.env[PASSPHRASE_ENV];
  else if (process.stdin.isTTY) {
    value = await promptHidden('backup passphrase: ');
    if (confirm && (await promptHidden('again: ')) !== value)
      throw new CliError('the passphrases differ', EXIT_USAGE);
  } else {
    throw new CliError(
      `no passphrase: give --passphrase-file FILE, set ${PASSPHRASE_ENV}, run on a terminal, or use --recipient/--identity`,
      EXIT_USAGE,
    );
  }
  if (confirm && value.length < MIN_PASSPHRASE) {
    throw new CliError(`the passphrase is too short (at least ${MIN_PASSPHRASE} characters)`, EXIT_USAGE);
  }
  if (value.length === 0) throw new CliError('the passphrase is empty', EXIT_USAGE);
  return value;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** BackupError (a refused file or key) becomes the CLI's one-line error. */
function backupStep<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message);
    throw err;
  }
}

// ---- live state ----

/** Processes other than this one holding `files` open (a running daemon, another CLI), via /proc. */
function processesUsing(files: string[]): number[] {
  const found: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return found;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's process we may not look into
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (files.includes(target)) {
        found.push(Number(pid));
        break;
      }
    }
  }
  return found;
}

/** Refuses while anything uses the state: its files swapped under a running daemon would corrupt them. */
async function refuseWhileRunning(loaded: LoadedConfig, dir: string): Promise<void> {
  // /proc shows resolved paths: a state dir reached through a symlink must be compared resolved.
  const db = join(existsSync(dir) ? realpathSync(dir) : dir, DB_FILE);
  const users = processesUsing([db, `${db}-wal`]);
  const answers = loaded.config.http.port !== 0 && (await daemonAnswers(DaemonClient.urlOf(loaded.config)));
  if (users.length > 0 || answers) {
    const who = users.length > 0 ? ` (process ${users.join(', ')} has ${db} open)` : '';
    throw new CliError(`the daemon is running${who}: stop it first (systemctl stop boxagent)`);
  }
}

// ---- create ----

function sealingFor(opts: CreateOptions): Promise<Sealing> | Sealing {
  if (opts.recipient !== undefined) {
    return {
      recipient: backupStep(() =>
        readRecipient(readPem(opts.recipient as string, 'public key'), opts.recipient as string),
      ),
    };
  }
  return passphrase(opts, true).then((p) => ({ passphrase: p }));
}

async function create(file: string, opts: CreateOptions): Promise<void> {
  const loaded = load(opts);
  const out = resolve(file);
  if (existsSync(out) && !opts.force)
    throw new CliError(`${out} exists; give another name or --force to replace it`);
  const result = await makeBackup(loaded, out, await sealingFor(opts), opts.force === true);
  if (opts.json) return printJson(result);
  print(describeBackup(result));
}

type BackupResult = Awaited<ReturnType<typeof makeBackup>>;

const describeBackup = (r: BackupResult): string =>
  `backed up ${describeCounts(r.counts)} and ${r.files.filter((n) => n !== DB_FILE).join(', ') || 'no key files'} to ${r.file} (${r.encryption}${r.recipient ? ` ${r.recipient}` : ''})`;

/** Snapshots, seals and writes the backup to `out` (0600, atomically), and audits it. */
async function makeBackup(loaded: LoadedConfig, out: string, sealing: Sealing, force: boolean) {
  const dir = resolve(loaded.config.storage.dir);
  const dbFile = join(dir, DB_FILE);
  if (!existsSync(dbFile)) throw new CliError(`nothing to back up: ${dbFile} does not exist`);
  watchStateDir(loaded.config);
  const { files, inspected: counts } = await gatherState(dir, countRows);
  let sealed: { bytes: Buffer; header: BackupHeader };
  try {
    sealed = writeSealedBackup(
      out,
      files,
      sealing,
      { boxId: loaded.config.box.id, agentVersion: VERSION },
      !force,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new CliError(`cannot write ${out}: ${code}`);
  } finally {
    for (const f of files) f.data.fill(0);
  }
  const names = files.map((f) => f.name);
  const encryption = 'passphrase' in sealing ? 'passphrase' : 'recipient';
  const recipient = 'recipient' in sealing ? keyFingerprint(sealing.recipient) : undefined;
  const sha256 = createHash('sha256').update(sealed.bytes).digest('hex');
  withStore(loaded, (store) =>
    store.audit.append({
      actor: approver(),
      action: 'backup.create',
      target: out,
      detail: {
        encryption,
        ...(recipient ? { recipient } : {}),
        files: names,
        bytes: sealed.bytes.length,
        sha256,
      },
    }),
  );
  return {
    file: out,
    bytes: sealed.bytes.length,
    sha256,
    boxId: sealed.header.boxId,
    createdAt: sealed.header.createdAt,
    agentVersion: sealed.header.agentVersion,
    encryption,
    recipient,
    files: names,
    counts,
  };
}

// ---- scheduled ----

/** `<box>-<UTC time>.bak`: sorts by time, and names whose backups rotation may delete. */
const SCHEDULED_NAME = /^(.+)-(\d{8}T\d{6}\d{3}Z)\.bak$/;

async function scheduled(opts: ConfigOption & { json?: boolean }): Promise<void> {
  const loaded = load(opts);
  const { backup, box } = loaded.config;
  if (backup.dir === undefined)
    throw new CliError('backup.dir is not set in the config: no scheduled backups');
  let sealing: Sealing;
  if (backup.recipient !== undefined) {
    const file = backup.recipient;
    sealing = { recipient: backupStep(() => readRecipient(readPem(file, 'public key'), file)) };
  } else if (backup.passphraseFile !== undefined) {
    sealing = { passphrase: await passphrase({ passphraseFile: backup.passphraseFile }, true) };
  } else {
    throw new CliError('set backup.recipient (a public key) or backup.passphraseFile in the config');
  }
  const dir = resolve(backup.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const result = await makeBackup(loaded, join(dir, `${box.id}-${stamp}.bak`), sealing, false);
  // Rotation: only this box's scheduled files, by the time in their names; anything else in the folder stays.
  const ours = readdirSync(dir)
    .filter((name) => SCHEDULED_NAME.exec(name)?.[1] === box.id)
    .sort();
  const removed = ours.slice(0, Math.max(0, ours.length - backup.keep)).map((name) => join(dir, name));
  for (const file of removed) rmSync(file, { force: true });
  if (opts.json) return printJson({ ...result, removed });
  print(describeBackup(result));
  if (removed.length > 0) print(`removed ${removed.length} older backup(s): ${removed.join(', ')}`);
}

const describeCounts = (c: Counts): string =>
  `state.db (${c.tokens} tokens, ${c.persons} persons, ${c.templates} face templates, ${c.jobs} jobs, ${c.audit} audit entries)`;

// ---- restore ----

async function openingFor(header: BackupHeader, opts: RestoreOptions): Promise<Opening> {
  if (header.kdf.name === 'scrypt') return { passphrase: await passphrase(opts, false) };
  if (opts.identity === undefined) {
    throw new CliError(
      `this backup is sealed for recipient key ${header.kdf.recipient}: give --identity PRIVATE.pem`,
      EXIT_USAGE,
    );
  }
  const file = opts.identity;
  return { identity: backupStep(() => readIdentity(readPem(file, 'private key'), file)) };
}

/** Checks a staged state: SQLite's full integrity check, then the audit chain with the staged audit key. */
function checkStaged(stage: string): { integrity: string; audit: AuditCheck } {
  const store = Store.open(stage);
  try {
    return { integrity: store.integrityCheck({ full: true }), audit: store.audit.verify() };
  } finally {
    store.close();
  }
}

async function restore(file: string, opts: RestoreOptions): Promise<void> {
  const loaded = load(opts);
  const dir = resolve(loaded.config.storage.dir);
  const src = resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(src);
  } catch (err) {
    throw new CliError(`cannot read ${src}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { header } = backupStep(() => readBackupHeader(bytes));
  await refuseWhileRunning(loaded, dir);
  if (existsSync(join(dir, DB_FILE)) && !opts.force) {
    throw new CliError(
      `${join(dir, DB_FILE)} exists: this box has a state; restore with --force to move it aside (into ${dir}/reset-<time>/) and replace it`,
    );
  }
  const opening = await openingFor(header, opts);
  const { files } = backupStep(() => openBackup(bytes, opening));
  const unexpected = files.filter((f) => !RESTORABLE.has(f.name));
  if (unexpected.length > 0 || !files.some((f) => f.name === DB_FILE)) {
    throw new CliError(
      `the backup holds unexpected files (${unexpected.map((f) => f.name).join(', ') || 'no state.db'}); not restored`,
    );
  }

  // Run as root: the restored files (and the reset-<time>/ folder) are handed to the service user at the end.
  watchStateDir(loaded.config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stage = mkdtempSync(join(dir, '.restore-'));
  const stageName = stage.slice(dir.length + 1);
  let checked: { integrity: string; audit: AuditCheck };
  let counts: Counts;
  let moved: { aside: string; entries: string[] } | null = null;
  try {
    for (const f of files) writeFileAtomic(join(stage, f.name), f.data, { mode: f.mode & 0o777 || 0o600 });
    checked = checkStaged(stage);
    if (checked.integrity !== 'ok') {
      throw new CliError(
        `the restored state.db fails SQLite's integrity check (${checked.integrity}); nothing restored`,
      );
    }
    counts = countRows(join(stage, DB_FILE));
    // Only now the live dir changes: the old state aside (never deleted), then each staged file renamed in.
    moved = moveStateAside(dir, [stageName]);
    for (const name of readdirSync(stage)) renameSync(join(stage, name), join(dir, name));
    fsyncDir(dir);
  } finally {
    rmSync(stage, { recursive: true, force: true });
    for (const f of files) f.data.fill(0);
  }
  withStore(loaded, (store) =>
    store.audit.append({
      actor: approver(),
      action: 'backup.restore',
      target: src,
      detail: {
        boxId: header.boxId,
        createdAt: header.createdAt,
        agentVersion: header.agentVersion,
        files: files.map((f) => f.name),
        ...(moved ? { movedAside: moved.aside } : {}),
      },
    }),
  );
  const result = {
    file: src,
    dir,
    boxId: header.boxId,
    createdAt: header.createdAt,
    agentVersion: header.agentVersion,
    files: files.map((f) => f.name),
    movedAside: moved?.aside ?? null,
    counts,
    integrity: checked.integrity,
    audit: checked.audit,
  };
  if (opts.json) printJson(result);
  else {
    if (moved) print(`moved the old state (${moved.entries.join(', ')}) to ${moved.aside}`);
    print(
      `restored ${describeCounts(counts)} and ${
        files
          .filter((f) => f.name !== DB_FILE)
          .map((f) => f.name)
          .join(', ') || 'no key files'
      } from ${src} (box ${header.boxId}, made ${header.createdAt})`,
    );
    if (header.boxId !== loaded.config.box.id) {
      print(
        `note: the backup is from box ${header.boxId}; this config names the box ${loaded.config.box.id}`,
      );
    }
    if (checked.audit.ok) print(`integrity ok; audit chain intact: ${checked.audit.entries} entries`);
  }
  if (!checked.audit.ok) {
    throw new CliError(
      `restored, but the audit chain is broken: ${checked.audit.problems.map((p) => `entry ${p.seq}: ${p.message}`).join('; ')}`,
    );
  }
}

// ---- keygen ----

function keygen(prefix: string, opts: { force?: boolean; json?: boolean }): void {
  const { publicPem, privatePem } = newRecipientPair();
  const privateFile = resolve(`${prefix}.key.pem`);
  const publicFile = resolve(`${prefix}.pub.pem`);
  try {
    writeFileAtomic(privateFile, privatePem, { mode: 0o600, exclusive: !opts.force });
    writeFileAtomic(publicFile, publicPem, { mode: 0o644, exclusive: !opts.force });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST'
        ? `${privateFile} or ${publicFile} exists; --force replaces them`
        : `cannot write the key pair: ${code ?? String(err)}`,
    );
  }
  const fingerprint = keyFingerprint(readRecipient(publicPem, publicFile));
  if (opts.json) return printJson({ privateKey: privateFile, publicKey: publicFile, fingerprint });
  print(
    `wrote ${publicFile} (give it to boxes: backup create --recipient) and ${privateFile} (keep it off the boxes; restore --identity); key ${fingerprint}`,
  );
}

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('encrypted backups of the state (database and keys)');
  backup
    .command('create <file>')
    .description('write an encrypted backup of state.db (online, the daemon may run) and the key files')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option(
      '--passphrase-file <file>',
      `read the passphrase from the file's first line (else $${PASSPHRASE_ENV} or a prompt)`,
    )
    .option(
      '--recipient <public.pem>',
      'encrypt for this X25519 public key (backup keygen) instead of a passphrase',
    )
    .option('--force', 'replace an existing file')
    .option('--json', 'print JSON')
    .action(create);
  backup
    .command('restore <file>')
    .description(
      'put a backup back into the state dir (the daemon stopped), then check integrity and the audit chain',
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option(
      '--passphrase-file <file>',
      `read the passphrase from the file's first line (else $${PASSPHRASE_ENV} or a prompt)`,
    )
    .option('--identity <private.pem>', 'the private key of a backup made with --recipient')
    .option('--force', 'replace an existing state (moved aside into reset-<time>/, not deleted)')
    .option('--json', 'print JSON')
    .action(restore);
  backup
    .command('scheduled')
    .description(
      'write a backup into backup.dir and keep the newest backup.keep (run by boxagent-backup.timer)',
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(scheduled);
  backup
    .command('keygen <prefix>')
    .description(
      'make an X25519 key pair for backups: <prefix>.pub.pem for the boxes, <prefix>.key.pem to keep safe',
    )
    .option('--force', 'replace existing files')
    .option('--json', 'print JSON')
    .action(keygen);
}
