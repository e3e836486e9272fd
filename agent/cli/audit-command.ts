// `boxagent audit verify`: walks the hash chain of the audit log.
import type { Command } from 'commander';
import {
  CliError,
  CONFIG_FLAGS,
  CONFIG_HELP,
  load,
  print,
  printJson,
  withStore,
  type ConfigOption,
} from './support.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('verify')
    .description('check that no audit entry was edited or removed from the middle of the chain')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((opts: ConfigOption & { json?: boolean }) => {
      const result = withStore(load(opts), (store) => store.audit.verify());
      if (opts.json) printJson(result);
      if (!result.ok) throw new CliError(`audit chain broken at entry ${result.brokenAt}`);
      if (!opts.json) print(`audit chain intact: ${result.entries} entries`);
    });
}
