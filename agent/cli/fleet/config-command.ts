// `boxagent fleet config get BOX` and `boxagent fleet config push BOX|--all FILE --sign KEY`: the desired
// config of docs/mqtt.md from the operator's side. A push reads the box's config in force first
// (`config.get`), shows what would change, refuses to remove devices unless allowed, signs the document with
// the next version, publishes it retained and waits for the box's answer to that version. `--all` goes box by
// box (the first alone, then the rest) and stops at the first box that does not apply it.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ReportedConfig } from '../../fleet/config-sync.js';
import { signDesiredConfig } from '../../fleet/config-signing.js';
import type { StatusMessage } from '../../fleet/contract.js';
import type { FleetConfigView } from '../../fleet/fleet-config-state.js';
import { isJsonObject, type JsonObject } from '../../fleet/merge-patch.js';
import { formatChange, planConfigPush } from '../../fleet/operator/config-plan.js';
import { FleetCallTimeout, type FleetClient, type SigningKey } from '../../fleet/operator/fleet-client.js';
import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, print, printJson } from '../support.js';
import {
  addOperatorOptions,
  addSignOptions,
  signingKey,
  withFleetClient,
  type OperatorOptions,
  type SignOptions,
} from './options.js';

interface GetOptions extends OperatorOptions, SignOptions {
  timeout: string;
}

interface PushOptions extends GetOptions {
  all?: boolean;
  allowRemoval?: boolean;
  yes?: boolean;
}

/** What happened on one box. */
interface BoxResult {
  box: string;
  version?: number;
  status: ReportedConfig['status'] | 'nothing-to-do' | 'not-pushed' | 'no-answer' | 'refused';
  reason?: string;
  errors: string[];
  changes: string[];
}

const seconds = (text: string, option: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${option} must be a number of seconds`, EXIT_USAGE);
  return n * 1000;
};

/** The desired patch from a YAML or JSON file: a mapping of fleet-owned sections. */
export function readPatchFile(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, EXIT_USAGE);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new CliError(`${file}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, EXIT_USAGE);
  }
  if (!isJsonObject(value)) {
    throw new CliError(
      `${file}: must be a mapping of fleet-owned sections (devices, supervision)`,
      EXIT_USAGE,
    );
  }
  return value;
}

async function getView(client: FleetClient, box: string, sign: SigningKey | undefined, timeoutMs: number) {
  let reply;
  try {
    reply = await client.call(box, 'config.get', {}, { timeoutMs, ...(sign ? { sign } : {}) });
  } catch (err) {
    if (err instanceof FleetCallTimeout) throw new CliError(err.message, EXIT_UNAVAILABLE);
    throw err;
  }
  if (!reply.ok) {
    const { title, detail, status } = reply.error;
    const hint = status === 403 ? ' (sign with --sign KEY of an admin-role key)' : '';
    throw new CliError(`${box} config.get: ${title}${detail ? `: ${detail}` : ''}${hint}`, EXIT_FAILURE);
  }
  return reply.result as FleetConfigView;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new CliError('not a terminal: give --yes to push without asking', EXIT_USAGE);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** One box: plan, show, publish, wait for the answer to that version. */
async function pushOne(
  client: FleetClient,
  box: string,
  filePatch: JsonObject,
  key: SigningKey,
  opts: PushOptions,
  out: (line: string) => void,
): Promise<BoxResult> {
  const timeoutMs = seconds(opts.timeout, '--timeout');
  const topics = client.topics(box);
  // Before config.get: the retained documents say which versions were sent (and maybe rolled back) already.
  const retained = await client.retained([topics.configDesired, topics.configReported]);
  const versionOf = (topic: string): number => {
    const raw = retained.get(topic);
    if (!raw) return 0;
    try {
      const v = (JSON.parse(raw.toString('utf8')) as { version?: unknown }).version;
      return Number.isSafeInteger(v) ? (v as number) : 0;
    } catch {
      return 0;
    }
  };
  const view = await getView(client, box, key, timeoutMs);
  const plan = planConfigPush(view, filePatch, opts.allowRemoval === true);
  if (!plan.ok) {
    for (const e of plan.errors) out(`${box}: ${e}`);
    return { box, status: 'refused', errors: plan.errors, changes: [] };
  }
  const lines = plan.changes.map(formatChange);
  out(`${box}: version ${view.inForce} in force${view.signedBy ? ` (signed by ${view.signedBy})` : ''}`);
  for (const line of lines) out(`  ${line}`);
  for (const id of plan.leftOut) out(`  (device ${id} is left out of the file: removed with "${id}": null)`);
  if (plan.noop) {
    out(`${box}: nothing to change`);
    return { box, version: view.inForce, status: 'nothing-to-do', errors: [], changes: [] };
  }
  if (lines.length === 0) out('  (no change to the config in force; the fleet-owned keys change)');
  if (!opts.yes && !(await confirm(`push to ${box}? [y/N] `))) {
    return { box, status: 'not-pushed', errors: ['not confirmed'], changes: lines };
  }
  const version = Math.max(view.inForce, versionOf(topics.configDesired)) + 1;
  if (!Number.isSafeInteger(version)) throw new CliError(`${box}: no version left above ${version - 1}`);

  const answers: ReportedConfig[] = [];
  let answered!: () => void;
  const answer = new Promise<void>((resolve) => (answered = resolve));
  const stop = await client.subscribe(topics.configReported, (topic, payload) => {
    if (topic !== topics.configReported || payload.length === 0) return;
    try {
      const r = JSON.parse(payload.toString('utf8')) as ReportedConfig;
      if (r.version === version) {
        answers.push(r);
        answered();
      }
    } catch {
      // not a report: ignored
    }
  });
  try {
    const doc = signDesiredConfig(key.privateKey, key.keyId, box, version, plan.patch);
    await client.publish(topics.configDesired, JSON.stringify(doc), { retain: true, qos: 1 });
    out(`${box}: version ${version} published; waiting for the box`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      answer.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const error = `no answer to version ${version} within ${Math.round(timeoutMs / 1000)} s (the document stays retained)`;
      out(`${box}: ${error}`);
      return { box, version, status: 'no-answer', errors: [error], changes: lines };
    }
  } finally {
    stop();
  }
  const r = answers[0] as ReportedConfig;
  out(`${box}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
  for (const e of r.errors) out(`  ${e}`);
  return {
    box,
    version,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    errors: r.errors,
    changes: lines,
  };
}

/** The boxes with a retained online status under the prefix; offline ones are listed apart. */
async function fleetBoxes(client: FleetClient): Promise<{ online: string[]; offline: string[] }> {
  const statuses = await client.retained([`${client.prefix}/+/status`]);
  const online: string[] = [];
  const offline: string[] = [];
  for (const [topic, payload] of statuses) {
    const box = topic.slice(client.prefix.length + 1, -'/status'.length);
    try {
      const s = JSON.parse(payload.toString('utf8')) as StatusMessage;
      (s.online ? online : offline).push(box);
    } catch {
      offline.push(box);
    }
  }
  return { online: online.sort(), offline: offline.sort() };
}

async function push(args: string[], opts: PushOptions): Promise<void> {
  const [box, file] = opts.all ? [undefined, args[0]] : [args[0], args[1]];
  if (file === undefined || args.length !== (opts.all ? 1 : 2)) {
    throw new CliError(
      'usage: boxagent fleet config push BOX FILE --sign KEY, or push --all FILE --sign KEY',
      EXIT_USAGE,
    );
  }
  const key = signingKey(opts);
  if (!key) throw new CliError('a desired config must be signed: give --sign KEYFILE', EXIT_USAGE);
  const patch = readPatchFile(file);
  const say = (line: string) => {
    if (!opts.json) print(line);
  };
  const results = await withFleetClient(opts, async (client) => {
    const done: BoxResult[] = [];
    let targets: string[];
    if (box !== undefined) targets = [box];
    else {
      const seen = await fleetBoxes(client);
      for (const b of seen.offline) {
        say(`${b}: offline, not pushed`);
        done.push({ box: b, status: 'not-pushed', errors: ['offline'], changes: [] });
      }
      targets = seen.online;
      if (targets.length === 0) throw new CliError(`no box online under ${client.prefix}`, EXIT_UNAVAILABLE);
      say(`boxes: ${targets.join(', ')} (${targets[0]} first, then the rest; stops at the first failure)`);
    }
    for (const target of targets) {
      const r = await pushOne(client, target, patch, key, opts, say);
      done.push(r);
      if (r.status !== 'applied' && r.status !== 'nothing-to-do') {
        const rest = targets.slice(targets.indexOf(target) + 1);
        if (rest.length > 0) say(`stopped: not pushed to ${rest.join(', ')}`);
        for (const b of rest) done.push({ box: b, status: 'not-pushed', errors: ['stopped'], changes: [] });
        break;
      }
    }
    return done;
  });
  if (opts.json) printJson(results);
  const failed = results.filter((r) => r.status !== 'applied' && r.status !== 'nothing-to-do');
  if (failed.length > 0) {
    const first = failed[0] as BoxResult;
    throw new CliError(
      `${first.box}: ${first.status}${first.reason ? ` (${first.reason})` : ''}${first.errors[0] ? `: ${first.errors[0]}` : ''}`,
      first.status === 'refused' ? EXIT_USAGE : EXIT_FAILURE,
    );
  }
}

async function get(box: string, opts: GetOptions): Promise<void> {
  const view = await withFleetClient(opts, (client) =>
    getView(client, box, signingKey(opts), seconds(opts.timeout, '--timeout')),
  );
  if (opts.json) return printJson(view);
  print(
    view.inForce === 0
      ? `${box}: no fleet config in force (the local config alone)`
      : `${box}: version ${view.inForce}, signed by ${view.signedBy ?? 'unknown (kept by an earlier build)'}, applied ${view.appliedAt ?? 'before this build'}`,
  );
  print(`fleet keys: ${view.fleetKeys.length > 0 ? view.fleetKeys.join(', ') : 'none'}`);
  print(`local keys overridden: ${view.overridden.length > 0 ? view.overridden.join(', ') : 'none'}`);
  print(JSON.stringify(view.config, null, 2));
}

export function registerConfig(fleet: Command): void {
  const config = fleet.command('config').description("a box's desired config: read it, push a new one");
  addSignOptions(
    addOperatorOptions(
      config
        .command('get <box>')
        .description('the config in force on a box: version, signer, fleet keys, overridden local keys')
        .option('--timeout <seconds>', 'how long to wait for the box', '30'),
    ),
    'sign the request (config.get needs an admin-role key unless the box runs RPC as admin)',
  ).action(get);
  addSignOptions(
    addOperatorOptions(
      config
        .command('push <args...>')
        .usage('BOX FILE --sign KEY | --all FILE --sign KEY [--allow-removal] [--yes]')
        .description(
          'push a desired config (a merge patch, YAML or JSON) to a box or, staged, to every box online; waits for each to apply it',
        )
        .option(
          '--all',
          'every box with a retained online status: one first, then the rest, stopping at the first failure',
        )
        .option(
          '--allow-removal',
          'allow removing devices (a null in the file, or devices the file leaves out)',
        )
        .option('--yes', 'do not ask before publishing')
        .option('--timeout <seconds>', 'how long to wait for each box to answer', '120'),
    ),
    'the Ed25519 private key (PEM) to sign the document with; its role must have the admin scope',
  ).action(push);
}
