// `boxagent fleet release sign FILE --release-key KEY`: the facts and the release signature of a release
// tarball, as JSON (nothing secret is written). `boxagent fleet update BOX|--all --package FILE --url URL
// --release-key KEY --sign KEY [--force]`: asks boxes for `agent.update` one after another (the first box
// alone, then the rest, stopping at the first failure) and waits for each one's `update.job` outcome.
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { EventMessage, RpcReply, StatusMessage } from '../../fleet/contract.js';
import {
  FleetCallTimeout,
  loadSigningKey,
  type FleetClient,
  type SigningKey,
} from '../../fleet/operator/fleet-client.js';
import { sha256File } from '../../update/download.js';
import { signRelease } from '../../update/release-signing.js';
import { VERSION_RE } from '../../update/releases.js';
import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, print, printJson } from '../support.js';
import {
  addOperatorOptions,
  addSignOptions,
  signingKey,
  withFleetClient,
  type OperatorOptions,
  type SignOptions,
} from './options.js';

export interface SignedRelease {
  file: string;
  version: string;
  sha256: string;
  size: number;
  releaseKeyId: string;
  releaseSignature: string;
}

interface ReleaseKeyOptions {
  releaseKey: string;
  releaseKeyId?: string;
  releaseVersion?: string;
}

const NAME_RE = /^boxagent-(.+)-linux-[A-Za-z0-9_]+\.tar\.gz$/;

/** Reads the tarball's facts (version from its name unless given) and signs them with the release key. */
export async function signReleaseFile(file: string, opts: ReleaseKeyOptions): Promise<SignedRelease> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT_USAGE);
  }
  const version = opts.releaseVersion ?? NAME_RE.exec(basename(file))?.[1];
  if (version === undefined)
    throw new CliError(
      `${basename(file)} is not named boxagent-<version>-linux-<arch>.tar.gz: give --release-version`,
      EXIT_USAGE,
    );
  if (!VERSION_RE.test(version)) throw new CliError(`version "${version}" is not x.y.z[-tag]`, EXIT_USAGE);
  const keyId = opts.releaseKeyId ?? basename(opts.releaseKey, extname(opts.releaseKey));
  let key: SigningKey;
  try {
    key = loadSigningKey(keyId, opts.releaseKey);
  } catch (err) {
    throw new CliError(`--release-key ${opts.releaseKey}: ${(err as Error).message}`, EXIT_USAGE);
  }
  const sha256 = await sha256File(file);
  const releaseSignature = signRelease(key.privateKey, { version, sha256, size });
  return { file, version, sha256, size, releaseKeyId: keyId, releaseSignature };
}

function addReleaseKeyOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--release-key <keyfile>', 'the release signing key (Ed25519 private key, PEM)')
    .option('--release-key-id <id>', 'the id boxes know it by in update.releaseKeys (default: the file name)')
    .option('--release-version <version>', "the release's version (default: from the file name)");
}

interface UpdateOptions extends OperatorOptions, SignOptions, ReleaseKeyOptions {
  all?: boolean;
  package: string;
  url: string;
  force?: boolean;
  timeout: string;
}

type Outcome = { box: string; updateId?: string; state: string; reasonCode?: string; reason?: string };

/** The boxes that have a retained status under the prefix (every box the broker has seen). */
async function seenBoxes(client: FleetClient, waitMs = 1500): Promise<string[]> {
  const boxes = new Set<string>();
  const prefix = client.prefix;
  const stop = await client.subscribe(`${prefix}/+/status`, (topic, payload) => {
    const box = topic.slice(prefix.length + 1).split('/')[0];
    try {
      const status = JSON.parse(payload.toString('utf8')) as StatusMessage;
      if (box && typeof status.box === 'string') boxes.add(box);
    } catch {
      // not a status document
    }
  });
  await new Promise((r) => setTimeout(r, waitMs));
  stop();
  return [...boxes].sort();
}

/** Asks one box to update and waits for its outcome (healthy, rolled_back or failed). */
async function updateBox(
  client: FleetClient,
  box: string,
  release: SignedRelease,
  opts: UpdateOptions,
  sign: SigningKey,
  timeoutMs: number,
): Promise<Outcome> {
  let updateId: string | undefined;
  const early: EventMessage[] = [];
  let settle: (o: Outcome) => void = () => undefined;
  const done = new Promise<Outcome>((resolve) => (settle = resolve));
  const onEvent = (e: EventMessage): void => {
    if (e.type !== 'update.job') return;
    const p = e.payload as {
      job: string;
      state: string;
      bytes?: number;
      total?: number;
      reasonCode?: string;
      reason?: string;
    };
    if (p.job !== updateId) return;
    if (!opts.json) {
      const extra =
        p.state === 'downloading' && p.total ? ` ${Math.floor(((p.bytes ?? 0) * 100) / p.total)} %` : '';
      process.stderr.write(`${box}: ${p.state}${extra}${p.reason ? `: ${p.reason}` : ''}\n`);
    }
    if (p.state === 'healthy' || p.state === 'rolled_back' || p.state === 'failed')
      settle({ box, updateId, state: p.state, reasonCode: p.reasonCode, reason: p.reason });
  };
  // Subscribed before the call: the first events may come before the reply.
  const stop = await client.subscribe(client.topics(box).events, (_topic, payload) => {
    let e: EventMessage;
    try {
      e = JSON.parse(payload.toString('utf8')) as EventMessage;
    } catch {
      return;
    }
    if (updateId === undefined) early.push(e);
    else onEvent(e);
  });
  try {
    const params: Record<string, unknown> = {
      version: release.version,
      url: opts.url.endsWith('/') ? opts.url + basename(release.file) : opts.url,
      sha256: release.sha256,
      size: release.size,
      releaseKeyId: release.releaseKeyId,
      releaseSignature: release.releaseSignature,
      ...(opts.force ? { force: true } : {}),
    };
    let reply: RpcReply;
    try {
      reply = await client.call(box, 'agent.update', params, { sign, timeoutMs: 30_000 });
    } catch (err) {
      if (err instanceof FleetCallTimeout) return { box, state: 'no-reply', reason: err.message };
      throw err;
    }
    if (!reply.ok) {
      const { title, detail } = reply.error;
      return { box, state: 'refused', reason: `${title}${detail ? `: ${detail}` : ''}` };
    }
    updateId = (reply.result as { updateId: string }).updateId;
    early.splice(0).forEach(onEvent);
    const timer = setTimeout(
      () => settle({ box, updateId, state: 'timeout', reason: `no outcome within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    const outcome = await done;
    clearTimeout(timer);
    return outcome;
  } finally {
    stop();
  }
}

export function registerUpdate(fleet: Command): void {
  const release = fleet.command('release').description('release tarballs for agent updates');
  addReleaseKeyOptions(
    release
      .command('sign <file>')
      .description("print a release tarball's version, sha256, size and release signature as JSON"),
  ).action(async (file: string, opts: ReleaseKeyOptions) => {
    printJson(await signReleaseFile(file, opts));
  });

  addSignOptions(
    addReleaseKeyOptions(
      addOperatorOptions(
        fleet
          .command('update [box]')
          .description(
            'update boxes to a release: one box first, then the rest, stopping at the first that fails or rolls back',
          )
          .option('--all', 'every box with a retained status on the broker')
          .requiredOption('--package <file>', 'the release tarball (boxagent-<version>-linux-<arch>.tar.gz)')
          .requiredOption(
            '--url <url>',
            'where boxes download it (a URL ending in / gets the file name added)',
          )
          .option('--force', 'install even when a box runs the same or a newer version')
          .option('--timeout <seconds>', 'how long to wait for each box to report healthy', '900'),
      ),
    ),
    'sign the agent.update requests with this fleet key (Ed25519 private key, PEM)',
  ).action(async (box: string | undefined, opts: UpdateOptions) => {
    if ((box === undefined) === (opts.all !== true)) throw new CliError('give one box or --all', EXIT_USAGE);
    if (!/^https?:\/\//.test(opts.url))
      throw new CliError(`--url ${opts.url}: expected http:// or https://`, EXIT_USAGE);
    const sign = signingKey(opts);
    if (!sign) throw new CliError('agent.update must be signed: give --sign KEYFILE', EXIT_USAGE);
    const timeout = Number(opts.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new CliError(`--timeout ${opts.timeout}: expected seconds above 0`, EXIT_USAGE);
    const signed = await signReleaseFile(opts.package, opts);
    const outcomes = await withFleetClient(opts, async (client) => {
      const boxes = box !== undefined ? [box] : await seenBoxes(client);
      if (boxes.length === 0) throw new CliError('no box has a status on this broker', EXIT_UNAVAILABLE);
      const results: Outcome[] = [];
      for (const b of boxes) {
        const o = await updateBox(client, b, signed, opts, sign, timeout * 1000);
        results.push(o);
        if (!opts.json) print(`${b}: ${o.state}${o.reason ? ` (${o.reason})` : ''}`);
        if (o.state !== 'healthy') break;
      }
      return { results, skipped: boxes.slice(results.length) };
    });
    if (opts.json) printJson({ version: signed.version, ...outcomes });
    const failed = outcomes.results.find((o) => o.state !== 'healthy');
    if (failed) {
      const rest = outcomes.skipped.length > 0 ? `; not started on ${outcomes.skipped.join(', ')}` : '';
      const line = `${failed.box}: update to ${signed.version} ${failed.state}${failed.reason ? `: ${failed.reason}` : ''}${rest}`;
      if (!opts.json) throw new CliError(line);
      process.stderr.write(`boxagent: ${line}\n`);
      process.exitCode = EXIT_FAILURE;
    }
  });
}
