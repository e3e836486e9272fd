// What every CLI command shares: exit codes, one-line errors, config and store access, JSON output.
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { publishAuditEntries } from '../events/audit-events.js';
import { EventLog } from '../events/event-log.js';
import { Store } from '../store/store.js';
import { watchStateDir } from './service-user.js';

/**
 * Exit codes (documented in the README): 0 ok, 1 failed, 64 usage, 65 state unusable (state.db missing in a
 * used state dir, or damaged), 69 daemon unavailable, 78 config.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 64;
/** EX_DATAERR: the state dir cannot be used as it is; restarting cannot fix it (RestartPreventExitStatus). */
export const EXIT_STATE = 65;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_CONFIG = 78;

/** A failure the user can act on: printed as one line, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export interface ConfigOption {
  config?: string;
}

export const CONFIG_FLAGS = '-c, --config <file>';
export const CONFIG_HELP = 'config file (default $BOXAGENT_CONFIG or /etc/boxagent/config.yaml)';

/** `checkFiles`: also refuse named files that do not exist (validate and daemon start only). */
export function load(opts: ConfigOption, checks: { checkFiles?: boolean } = {}): LoadedConfig {
  return loadConfig({ file: opts.config, ...checks });
}

/**
 * Opens the store for a command. What the command audits is written to the outbox as `audit.entry` in the
 * same transaction, as the daemon does, so the fleet gets it (the daemon sends it at its next drain).
 */
export function openStore(loaded: LoadedConfig): Store {
  const { config } = loaded;
  watchStateDir(config); // run as root: what this makes is handed to the service user at the end
  const store = Store.open(resolve(config.storage.dir));
  publishAuditEntries(store, new EventLog(store, config.storage.maxEvents, config.mqtt.url !== undefined));
  return store;
}

/** Opens the store for an offline maintenance command and always closes it. */
export function withStore<T>(loaded: LoadedConfig, fn: (store: Store) => T): T {
  const store = openStore(loaded);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}
