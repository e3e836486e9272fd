#!/usr/bin/env node
// The `boxagent` command: the daemon (`run`) and the installer's tools. Each command exits 0 on success and
// non-zero with a one-line reason otherwise; configuration errors exit 78 (EX_CONFIG).
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../../config/load.js';
import { parseScopes, TokenError, TokenService } from '../auth/token-service.js';
import { createLogger } from '../log.js';
import { registerFaceCommands } from './face-commands.js';
import { Agent } from '../main.js';
import { Store } from '../store/store.js';
import { VERSION } from '../version.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 64;
export const EXIT_CONFIG = 78;

/** A failure the user can act on: printed as one line, no stack. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
  }
}

function load(opts: { config?: string }): LoadedConfig {
  return loadConfig({ file: opts.config });
}

function withStore<T>(loaded: LoadedConfig, fn: (store: Store) => T): T {
  const store = Store.open(resolve(loaded.config.storage.dir));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

async function run(opts: { config?: string }): Promise<void> {
  const { config, file } = load(opts);
  const log = createLogger(config.log.level);
  const agent = new Agent({ config, log });
  let exiting = false;
  const shutdown = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, 'shutting down');
    // A stuck device or client must not keep the box from restarting.
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(EXIT_FAILURE);
    }, 10_000);
    force.unref();
    agent.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ config: file }, 'starting');
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      throw new CliError(`port ${config.http.port} on ${config.http.host} is in use (http.port)`);
    if (e.code === 'EACCES') throw new CliError(`no permission: ${e.message}`);
    throw err;
  }
}

export function buildProgram(): Command {
  const program = new Command('boxagent')
    .description('Agent for government-service counter boxes')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run the daemon (systemd runs this)')
    .option('-c, --config <file>', 'config file (default $BOXAGENT_CONFIG or /etc/boxagent/config.yaml)')
    .action(run);

  program
    .command('version')
    .description('print the version')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) printJson({ version: VERSION, node: process.version });
      else process.stdout.write(`${VERSION}\n`);
    });

  const config = program.command('config').description('configuration');
  config
    .command('validate [file]')
    .description('check a config file (and BOXAGENT_* overrides); prints every problem')
    .option('--json', 'print the resolved config as JSON')
    .action((file: string | undefined, opts: { json?: boolean }) => {
      const loaded = load({ config: file });
      if (opts.json) printJson(loaded.config);
      else process.stdout.write(`${loaded.file}: valid\n`);
    });

  const token = program.command('token').description('API tokens for the counter software and operators');
  token
    .command('create')
    .description('create a token; it is printed once and only its hash is kept')
    .requiredOption('--name <name>', 'who or what uses it, e.g. counter-app')
    .requiredOption('--scopes <list>', 'comma-separated: read,print,face,enroll,seal,admin')
    .option('--expires-in-days <days>', 'expiry in days (default: never)')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(
      (opts: { name: string; scopes: string; expiresInDays?: string; config?: string; json?: boolean }) => {
        const scopes = parseScopes(opts.scopes);
        let expiresInDays: number | undefined;
        if (opts.expiresInDays !== undefined) {
          expiresInDays = Number(opts.expiresInDays);
          if (!Number.isFinite(expiresInDays) || expiresInDays <= 0)
            throw new CliError('--expires-in-days must be a positive number', EXIT_USAGE);
        }
        const created = withStore(load(opts), (store) =>
          new TokenService(store).create({ name: opts.name, scopes, expiresInDays, actor: 'cli' }),
        );
        if (opts.json) printJson({ token: created.token, ...created.summary });
        else process.stdout.write(`${created.token}\n`);
      },
    );
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action((opts: { config?: string; json?: boolean }) => {
      const list = withStore(load(opts), (store) => new TokenService(store).list());
      if (opts.json) return printJson(list);
      for (const t of list) {
        const state = t.revokedAt
          ? 'revoked'
          : t.expiresAt && Date.parse(t.expiresAt) < Date.now()
            ? 'expired'
            : 'active';
        process.stdout.write(`${t.id}  ${t.name.padEnd(20)} ${state.padEnd(8)} ${t.scopes.join(',')}\n`);
      }
    });
  token
    .command('revoke <idOrName>')
    .description('revoke a token by id or name')
    .option('-c, --config <file>', 'config file')
    .action((idOrName: string, opts: { config?: string }) => {
      const ok = withStore(load(opts), (store) => new TokenService(store).revoke(idOrName, 'cli'));
      if (!ok) throw new CliError(`no active token with id or name "${idOrName}"`);
      process.stdout.write(`revoked ${idOrName}\n`);
    });

  registerFaceCommands(program, { load, printJson, fail: (message) => new CliError(message) });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed help or the usage error.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    } else if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exitCode = EXIT_CONFIG;
    } else if (err instanceof CliError || err instanceof TokenError) {
      process.stderr.write(`boxagent: ${err.message}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : EXIT_USAGE;
    } else {
      process.stderr.write(`boxagent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    }
  }
}

await main(process.argv);
