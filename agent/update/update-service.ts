// Agent updates from the fleet. `begin` checks an `agent.update` request (one at a time, the release
// signature, no downgrade unless forced, the size cap) and answers at once; the job then downloads (resuming),
// verifies the hash, backs up the state, unpacks into `releases/<version>/`, records the trial, switches
// `current` and asks for a restart. What happens after the restart is the boot selector's (boot.ts): the new
// version confirms its trial here (`confirmTrial`, once ready and connected) or the boot selector switches
// back and the old version reports it here (`start`). Every step is an `update.job` event.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../config/atomic-write.js';
import type { Config } from '../../config/schema.js';
import { gatherState, writeSealedBackup } from '../backup/state-backup.js';
import { readRecipient, type Sealing } from '../backup/backup-format.js';
import type { EventLog } from '../events/event-log.js';
import type { EventPayload } from '../events/catalog.js';
import { t, verbatim } from '../messages/text.js';
import { Problem } from '../problems/problem.js';
import type { UpdateFailureCode, UpdateJobState } from '../store/job-states.js';
import type { Store } from '../store/store.js';
import { downloadRelease, DownloadError, sha256File } from './download.js';
import { releaseKeys, releaseSignatureProblem } from './release-signing.js';
import {
  compareVersions,
  currentTree,
  readRolledBack,
  readTrial,
  removeRolledBack,
  removeTrial,
  switchCurrent,
  treeVersion,
  writeTrial,
  CURRENT_LINK,
  type RolledBackRecord,
} from './releases.js';
import { extractTarGz, UnsafeArchiveError } from './tar-extract.js';

export interface UpdateRequest {
  version: string;
  url: string;
  sha256: string;
  size: number;
  releaseKeyId: string;
  releaseSignature: string;
  force?: boolean;
}

export interface UpdateServiceOptions {
  config: Config;
  store: Store;
  events: EventLog;
  log: Logger;
  /** The running version and its app tree. */
  version: string;
  appTree: string;
  releasesDir: string;
  /** Ends the process so that systemd starts it again (graceful stop, then EXIT_RESTART). */
  restart(reason: string): void;
}

/** The `reason` of a rolled_back event, by its code. */
const ROLLBACK_REASONS: Record<RolledBackRecord['reasonCode'], string> = {
  crashed: 'stopped before it reported healthy',
  unhealthy: 'did not report healthy within update.healthTimeoutSeconds',
  'invalid-release': 'was not the release releases/current selected',
};

/** The pre-update copy of the state (state.db snapshot and key files), inside the state dir. */
export const PRE_UPDATE_DIR = 'pre-update';

interface Job {
  id: string;
  version: string;
  state: UpdateJobState;
  createdAt: string;
  updatedAt: string;
}

class JobFailure extends Error {
  constructor(
    readonly reasonCode: UpdateFailureCode,
    message: string,
  ) {
    super(message);
  }
}

export class UpdateService {
  private job?: Job;
  private readonly keys: Map<string, KeyObject>;
  private readonly log: Logger;
  private confirmed = false;

  /** Checks the release keys (throws naming the config key). */
  constructor(private readonly o: UpdateServiceOptions) {
    this.keys = releaseKeys(o.config.update);
    this.log = o.log.child({ component: 'update' });
  }

  /** At start: reports an update the boot selector rolled back (the old version runs again: this one). */
  start(): void {
    const dir = this.o.releasesDir;
    const undone = readRolledBack(dir);
    if (!undone) return;
    this.log.warn({ ...undone }, 'the update was rolled back');
    this.o.events.publish('update.job', {
      job: undone.updateId,
      kind: 'update',
      device: 'agent',
      state: 'rolled_back',
      previous: 'restarting',
      version: undone.to,
      from: undone.from,
      reasonCode: undone.reasonCode,
      reason: `version ${undone.to} ${ROLLBACK_REASONS[undone.reasonCode]}; back on ${undone.from}`,
    });
    removeRolledBack(dir);
  }

  /** True while this version is a release on trial that has not confirmed it yet. */
  onTrial(): boolean {
    const trial = readTrial(this.o.releasesDir);
    return trial !== undefined && trial.to === this.o.version && !this.confirmed;
  }

  /**
   * The daemon is ready (and connected to the fleet, when one is configured): a trial of this version ends
   * well. Publishes `update.job` healthy, removes the trial record and the releases no longer needed.
   */
  confirmTrial(): void {
    if (this.confirmed) return;
    const dir = this.o.releasesDir;
    const trial = readTrial(dir);
    if (!trial || trial.to !== this.o.version) return;
    this.confirmed = true;
    this.o.events.publish('update.job', {
      job: trial.updateId,
      kind: 'update',
      device: 'agent',
      state: 'healthy',
      previous: 'restarting',
      version: trial.to,
      from: trial.from,
    });
    removeTrial(dir);
    this.log.info({ version: trial.to, from: trial.from, updateId: trial.updateId }, 'update healthy');
    this.prune(trial.fromTree);
  }

  /** The update in flight, for the event stream's snapshot. */
  inFlight(): {
    kind: string;
    job: string;
    device: string;
    state: string;
    createdAt: string;
    updatedAt: string;
  }[] {
    const j = this.job;
    return j
      ? [
          {
            kind: 'update',
            job: j.id,
            device: 'agent',
            state: j.state,
            createdAt: j.createdAt,
            updatedAt: j.updatedAt,
          },
        ]
      : [];
  }

  /** Checks the request and starts the job; throws a Problem when refused (nothing is downloaded then). */
  begin(req: UpdateRequest, actor: string): { updateId: string; state: 'accepted' } {
    if (this.job) {
      throw new Problem('update-in-progress', t`update ${this.job.id} to ${this.job.version} is under way`);
    }
    if (this.onTrial()) {
      throw new Problem(
        'update-in-progress',
        t`this version (${this.o.version}) is on trial and has not reported healthy yet`,
      );
    }
    const max = this.o.config.update.maxBytes;
    if (req.size > max) {
      throw new Problem('payload-too-large', t`the release is ${req.size} bytes; update.maxBytes is ${max}`, [
        'size',
      ]);
    }
    const sha256 = req.sha256.toLowerCase();
    const bad = releaseSignatureProblem(this.keys, req.releaseKeyId, req.releaseSignature, {
      version: req.version,
      sha256,
      size: req.size,
    });
    if (bad !== undefined) throw new Problem('bad-release-signature', verbatim(bad), ['releaseSignature']);
    const order = compareVersions(req.version, this.o.version);
    if (order <= 0 && req.force !== true) {
      throw new Problem(
        'downgrade-refused',
        order === 0
          ? t`version ${req.version} is already running; send force: true to install it again`
          : t`version ${req.version} is older than the running ${this.o.version}; send force: true to downgrade`,
        ['version'],
      );
    }
    const now = new Date().toISOString();
    const job: Job = (this.job = {
      id: `upd-${randomBytes(8).toString('hex')}`,
      version: req.version,
      state: 'accepted',
      createdAt: now,
      updatedAt: now,
    });
    this.o.store.transaction(() => {
      this.o.store.audit.append({
        actor,
        action: 'agent.update',
        target: req.version,
        detail: {
          updateId: job.id,
          from: this.o.version,
          url: req.url,
          sha256,
          size: req.size,
          releaseKeyId: req.releaseKeyId,
          force: req.force === true,
        },
      });
      this.emit(job, 'accepted');
    });
    this.run(job, { ...req, sha256 }).catch((err: unknown) => {
      this.log.error({ err }, 'update job failed unexpectedly');
    });
    return { updateId: job.id, state: 'accepted' };
  }

  /** Asks for a restart (agent.restart, the end of an update). */
  restart(reason: string): void {
    this.log.info({ reason }, 'restarting');
    this.o.restart(reason);
  }

  private emit(
    job: Job,
    state: UpdateJobState,
    extra: Partial<Pick<EventPayload<'update.job'>, 'bytes' | 'total' | 'reasonCode' | 'reason'>> = {},
  ): void {
    const previous = job.state === state && state === 'accepted' ? null : job.state;
    job.state = state;
    job.updatedAt = new Date().toISOString();
    this.o.events.publish('update.job', {
      job: job.id,
      kind: 'update',
      device: 'agent',
      state,
      previous,
      version: job.version,
      from: this.o.version,
      ...extra,
    });
  }

  private async run(job: Job, req: UpdateRequest): Promise<void> {
    const dir = this.o.releasesDir;
    const downloads = join(dir, '.downloads');
    const part = join(downloads, `${req.sha256}.part`);
    const staging = join(dir, `.staging-${job.id}`);
    try {
      mkdirSync(downloads, { recursive: true, mode: 0o750 });
      // Downloading: progress at most every 10 % or 5 s.
      this.emit(job, 'downloading', { bytes: 0, total: req.size });
      let lastBytes = 0;
      let lastAt = Date.now();
      const step = Math.max(1, Math.ceil(req.size / 10));
      const result = await downloadRelease({
        url: req.url,
        part,
        size: req.size,
        onProgress: (bytes, total) => {
          const now = Date.now();
          if (bytes < total && bytes - lastBytes < step && now - lastAt < 5000) return;
          if (bytes === lastBytes) return;
          lastBytes = bytes;
          lastAt = now;
          this.emit(job, 'downloading', { bytes, total });
        },
      }).catch((err: unknown) => {
        if (err instanceof DownloadError) throw new JobFailure(err.reasonCode, err.message);
        throw err;
      });
      if (lastBytes < req.size) this.emit(job, 'downloading', { bytes: req.size, total: req.size });
      this.log.info({ ...result, version: req.version }, 'release downloaded');

      this.emit(job, 'verifying');
      const size = statSync(part).size;
      const sha256 = await sha256File(part);
      if (size !== req.size || sha256 !== req.sha256) {
        rmSync(part, { force: true });
        throw new JobFailure(
          'checksum-mismatch',
          `the download has sha256 ${sha256} (${size} bytes); the signed release has ${req.sha256} (${req.size} bytes)`,
        );
      }

      this.emit(job, 'installing');
      try {
        await extractTarGz(part, staging, this.o.config.update.maxUnpackedBytes);
      } catch (err) {
        if (err instanceof UnsafeArchiveError) throw new JobFailure('unsafe-archive', err.message);
        throw new JobFailure('install-failed', (err as Error).message);
      }
      const unpacked = treeVersion(staging);
      if (unpacked !== req.version) {
        throw new JobFailure(
          'release-invalid',
          unpacked === undefined
            ? 'the release is not an app tree (package.json and dist/agent/cli/main.js at its top)'
            : `the release says version ${unpacked}, not ${req.version}`,
        );
      }
      const target = join(dir, req.version);
      if (existsSync(target)) {
        // A forced reinstall, or a leftover: set aside, then removed (a running tree's open files stay valid).
        const aside = join(dir, `.old-${job.id}`);
        renameSync(target, aside);
        rmSync(aside, { recursive: true, force: true });
      }
      renameSync(staging, target);
      rmSync(part, { force: true });
      // The state copy last, just before the switch: what the old version wrote up to here is in it.
      const backup = await this.backUpState(job).catch((err: unknown) => {
        throw new JobFailure('backup-failed', err instanceof Error ? err.message : String(err));
      });

      // The trial is recorded before `current` moves: a crash in between leaves a trial the boot selector
      // sees does not match `current`, never a switched release without its probation.
      writeTrial(dir, {
        updateId: job.id,
        from: this.o.version,
        fromTree: this.o.appTree,
        to: req.version,
        startedAt: new Date().toISOString(),
        attempts: 0,
        deadline: null,
        healthTimeoutSeconds: this.o.config.update.healthTimeoutSeconds,
        ...(backup === undefined ? {} : { stateBackup: backup }),
      });
      switchCurrent(dir, target);
      this.emit(job, 'restarting');
      this.log.info({ version: req.version, updateId: job.id }, 'release installed; restarting into it');
      this.restart(`update to ${req.version}`);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      const failure =
        err instanceof JobFailure
          ? err
          : new JobFailure('install-failed', err instanceof Error ? err.message : String(err));
      this.log.warn(
        { reasonCode: failure.reasonCode, reason: failure.message, updateId: job.id },
        'update failed',
      );
      this.emit(job, 'failed', { reasonCode: failure.reasonCode, reason: failure.message });
      this.job = undefined;
    }
  }

  /**
   * The state before the update: a copy (state.db snapshot and key files) in `<state dir>/pre-update/`, as
   * protected as the state itself, and a sealed backup in backup.dir when scheduled backups are set up.
   * Returns the copy's folder.
   */
  private async backUpState(job: Job): Promise<string | undefined> {
    const { config } = this.o;
    const stateDir = resolve(config.storage.dir);
    const { files } = await gatherState(stateDir, () => undefined);
    try {
      const copy = join(stateDir, PRE_UPDATE_DIR);
      rmSync(copy, { recursive: true, force: true });
      mkdirSync(copy, { mode: 0o700 });
      for (const f of files) writeFileAtomic(join(copy, f.name), f.data, { mode: f.mode });
      writeFileAtomic(
        join(copy, 'about.json'),
        JSON.stringify({
          from: this.o.version,
          to: job.version,
          updateId: job.id,
          at: new Date().toISOString(),
        }) + '\n',
      );
      const sealing = this.sealing();
      if (sealing && config.backup.dir !== undefined) {
        const out = resolve(config.backup.dir);
        mkdirSync(out, { recursive: true, mode: 0o700 });
        const stamp = new Date().toISOString().replace(/[-:.]/g, '');
        writeSealedBackup(
          join(out, `${config.box.id}-pre-update-${this.o.version}-${stamp}.bak`),
          files,
          sealing,
          { boxId: config.box.id, agentVersion: this.o.version },
          true,
        );
      }
      return copy;
    } finally {
      for (const f of files) f.data.fill(0);
    }
  }

  /** How scheduled backups are sealed, when the box has a recipient key (a passphrase file is not read here). */
  private sealing(): Sealing | undefined {
    const file = this.o.config.backup.recipient;
    if (file === undefined) return undefined;
    try {
      return { recipient: readRecipient(readFileSync(file, 'utf8'), file) };
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'no sealed pre-update backup: the recipient key is unusable',
      );
      return undefined;
    }
  }

  /** Removes release dirs other than `current`'s and the one before it (kept for a manual switch back). */
  private prune(previousTree: string): void {
    const dir = this.o.releasesDir;
    const keep = new Set<string>();
    const current = currentTree(dir);
    if (current) keep.add(current);
    try {
      keep.add(realpathSync(previousTree));
    } catch {
      // gone already
    }
    for (const name of readdirSync(dir)) {
      if (name === CURRENT_LINK || name.endsWith('.json')) continue;
      const path = join(dir, name);
      let real: string;
      try {
        real = realpathSync(path);
        if (!statSync(real).isDirectory()) continue;
      } catch {
        continue;
      }
      // Dot folders are an update's leftovers (staging, set-aside trees); .downloads keeps partial downloads.
      if (name === '.downloads' || keep.has(real)) continue;
      if (name.startsWith('.') || treeVersion(real) !== undefined) {
        rmSync(path, { recursive: true, force: true });
        this.log.info({ release: name }, 'old release removed');
      }
    }
  }
}
