#!/usr/bin/env node
// The `boxagent` command: the daemon (`run`) and the installer's tools. Each command exits 0 on success and
// non-zero with a one-line reason otherwise (exit codes in support.ts); configuration errors exit 78, an
// unusable state dir 65.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../../config/load.js';
import { TokenError } from '../auth/token-service.js';
import { StateDirError } from '../store/state-dir.js';
import { VERSION } from '../version.js';
import { registerAdminLink } from './admin-link-command.js';
import { registerAudit } from './audit-command.js';
import { registerBackup } from './backup-command.js';
import { registerConfig } from './config-commands.js';
import { registerDevices } from './device-commands.js';
import { registerDoctor } from './doctor.js';
import { registerFaceCommands } from './face-commands.js';
import { registerFleet } from './fleet/index.js';
import { registerLogs } from './logs-command.js';
import { registerReset } from './reset-command.js';
import { registerRun } from './run-command.js';
import { registerService } from './service-command.js';
import { handOverCreated } from './service-user.js';
import { CliError, EXIT_CONFIG, EXIT_FAILURE, EXIT_STATE, EXIT_USAGE, print, printJson } from './support.js';
import { registerTokens } from './token-commands.js';

export function buildProgram(): Command {
  const program = new Command('boxagent')
    .description('Agent for government-service counter boxes')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  registerRun(program);
  program
    .command('version')
    .description('print the version')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) printJson({ version: VERSION, node: process.version });
      else print(VERSION);
    });
  registerConfig(program);
  registerDevices(program);
  registerDoctor(program);
  registerTokens(program);
  registerAdminLink(program);
  registerAudit(program);
  registerFaceCommands(program);
  registerService(program);
  registerLogs(program);
  registerReset(program);
  registerBackup(program);
  registerFleet(program);
  // Subcommands inherit exitOverride so their usage errors come back here too.
  program.commands.forEach(function inherit(cmd: Command): void {
    cmd.exitOverride();
    cmd.commands.forEach(inherit);
  });
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
    } else if (err instanceof StateDirError) {
      process.stderr.write(`boxagent: ${err.message}\n`);
      process.exitCode = EXIT_STATE;
    } else if (err instanceof CliError || err instanceof TokenError) {
      process.stderr.write(`boxagent: ${err.message}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : EXIT_USAGE;
    } else {
      process.stderr.write(`boxagent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    }
  } finally {
    // Also after a failure: a half-done command must not leave root-owned files in the state dir.
    handOverCreated();
  }
}

await main(process.argv);
