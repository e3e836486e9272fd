// `boxagent run`: the daemon, as systemd starts it.
import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { Agent } from '../main.js';
import { EXIT_RESTART } from '../update/releases.js';
import { CliError, CONFIG_FLAGS, CONFIG_HELP, EXIT_FAILURE, load, type ConfigOption } from './support.js';

/** A stuck device or client must not keep the box from restarting. */
const SHUTDOWN_LIMIT_MS = 10_000;

async function run(opts: ConfigOption): Promise<void> {
  const { config, file } = load(opts, { checkFiles: true });
  const log = createLogger(config.log.level);
  let exiting = false;
  const agent = new Agent({
    config,
    log,
    // A deliberate restart: the same graceful stop, then a status systemd restarts (Restart=on-failure).
    onRestart: (reason) => shutdown(`restart: ${reason}`, EXIT_RESTART),
  });
  const shutdown = (signal: string, code = 0): void => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(EXIT_FAILURE);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    agent.stop().then(
      () => {
        log.info({ exitCode: code }, 'stopped');
        process.exit(code);
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
    if (e.code === 'EADDRINUSE') {
      throw new CliError(`port ${config.http.port} on ${config.http.host} is in use (http.port)`);
    }
    if (e.code === 'EACCES') throw new CliError(`no permission: ${e.message}`);
    throw err;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the daemon (systemd runs this)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .action(run);
}
