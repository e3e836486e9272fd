// The options every `boxagent fleet …` subcommand shares (decided in the fleet contract): where the broker is,
// how to log in, the topic prefix, the operator's signing key and JSON output. Parsed here once into the
// FleetClient's options and a SigningKey so every subcommand reads them the same way.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_PREFIX,
  FleetClient,
  loadSigningKey,
  type FleetClientOptions,
  type SigningKey,
} from '../../fleet/operator/fleet-client.js';
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE } from '../support.js';

export const BROKER_ENV = 'BOXAGENT_FLEET_BROKER';

export interface OperatorOptions {
  broker?: string;
  prefix?: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  json?: boolean;
}

export interface SignOptions {
  sign?: string;
  keyId?: string;
}

/** Adds --broker, --prefix, --username, --password-file, --ca and --json to a subcommand. */
export function addOperatorOptions(cmd: Command): Command {
  return cmd
    .option('--broker <url>', `broker URL, mqtt:// or mqtts:// (default $${BROKER_ENV})`)
    .option('--prefix <prefix>', 'topic prefix of the fleet', DEFAULT_PREFIX)
    .option('--username <name>', 'broker user name')
    .option('--password-file <file>', 'file holding the broker password (first line)')
    .option('--ca <file>', 'PEM of the CA that signed the broker certificate')
    .option('--json', 'print JSON');
}

/** Adds --sign KEYFILE and --key-id ID (default: the key file's name without extension). */
export function addSignOptions(
  cmd: Command,
  what = 'sign the request with this Ed25519 private key (PEM)',
): Command {
  return cmd
    .option('--sign <keyfile>', what)
    .option(
      '--key-id <id>',
      'the id the boxes know the key by (default: the key file name without extension)',
    );
}

/** The FleetClient options the operator gave; `extra` sets client id, session and the like per command. */
export function fleetClientOptions(
  opts: OperatorOptions,
  extra: Partial<FleetClientOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): FleetClientOptions {
  const url = opts.broker ?? env[BROKER_ENV];
  if (url === undefined || url === '')
    throw new CliError(`no broker: give --broker URL or set ${BROKER_ENV}`, EXIT_USAGE);
  if (!/^(mqtts?|wss?):\/\//.test(url))
    throw new CliError(`--broker ${url}: expected mqtt://, mqtts://, ws:// or wss://`, EXIT_USAGE);
  const out: FleetClientOptions = { url, prefix: opts.prefix ?? DEFAULT_PREFIX, ...extra };
  if (opts.username !== undefined) out.username = opts.username;
  if (opts.passwordFile !== undefined) out.password = readPassword(opts.passwordFile);
  if (opts.ca !== undefined) out.ca = readFileOrFail(opts.ca, '--ca');
  return out;
}

/** The signing key given with --sign (undefined without it). */
export function signingKey(opts: SignOptions): SigningKey | undefined {
  if (opts.sign === undefined) {
    if (opts.keyId !== undefined) throw new CliError('--key-id needs --sign KEYFILE', EXIT_USAGE);
    return undefined;
  }
  const keyId = opts.keyId ?? basename(opts.sign, extname(opts.sign));
  try {
    return loadSigningKey(keyId, opts.sign);
  } catch (err) {
    throw new CliError(`--sign ${opts.sign}: ${oneLine(err)}`, EXIT_USAGE);
  }
}

/** Connects with the operator's options, runs `fn` and always disconnects. */
export async function withFleetClient<T>(
  opts: OperatorOptions,
  fn: (client: FleetClient) => Promise<T>,
  extra: Partial<FleetClientOptions> = {},
): Promise<T> {
  const client = await connectFleet(fleetClientOptions(opts, extra));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** FleetClient.connect with a one-line CLI error (exit 69) when the broker cannot be reached or refuses. */
export async function connectFleet(options: FleetClientOptions): Promise<FleetClient> {
  try {
    return await FleetClient.connect(options);
  } catch (err) {
    throw new CliError(`broker ${options.url}: ${oneLine(err)}`, EXIT_UNAVAILABLE);
  }
}

function readPassword(file: string): string {
  const text = readFileOrFail(file, '--password-file').toString('utf8');
  return text.split(/\r?\n/, 1)[0] ?? '';
}

function readFileOrFail(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`${option} ${file}: ${oneLine(err)}`, EXIT_USAGE);
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
}
