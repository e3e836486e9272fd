// `boxagent audit verify [--head SEQ:HASH]`: walks the keyed hash chain of the audit log and, given the
// fleet's anchor (telemetry `auditHead`), checks that the log still reaches it.
import type { Command } from 'commander';
import { parseAuditHead, type AuditHead } from '../store/audit.js';
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

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('verify')
    .description('check that no audit entry was edited or removed, and that none is missing after the anchor')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--head <seq:hash>', "the fleet's anchor (telemetry auditHead): the log must reach it unchanged")
    .option('--json', 'print JSON')
    .action((opts: ConfigOption & { json?: boolean; head?: string }) => {
      let anchor: AuditHead | undefined;
      if (opts.head !== undefined) {
        anchor = parseAuditHead(opts.head);
        if (!anchor) throw new CliError(`--head: expected SEQ:HASH (a 64-digit hex hash)`, EXIT_USAGE);
      }
      const result = withStore(load(opts), (store) => store.audit.verify(anchor));
      if (opts.json) printJson(result);
      if (!result.ok) {
        // One line per finding (the first break in the chain, a cut tail): the first gets the CLI's prefix.
        throw new CliError(
          result.problems.map((p) => `audit chain broken at entry ${p.seq}: ${p.message}`).join('\n'),
        );
      }
      if (!opts.json) {
        const legacy = result.legacy > 0 ? ` (${result.legacy} made before the audit key, unkeyed)` : '';
        const head = result.head ? `; head ${result.head.seq}:${result.head.hash}` : '';
        print(`audit chain intact: ${result.entries} entries${legacy}${head}`);
      }
    });
}
