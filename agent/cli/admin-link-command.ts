// `boxagent admin-link`: prints a one-time login link to the box's local page. The secret is written (hashed)
// to the state database, so this works beside the running daemon, which alone exchanges it for a session.
import type { Command } from 'commander';
import { ADMIN_LINK_TTL_MS, AdminLinkService } from '../auth/admin-link-service.js';
import { TokenService } from '../auth/token-service.js';
import { DaemonClient } from './daemon-client.js';
import { approver } from './token-commands.js';
import {
  CONFIG_FLAGS,
  CONFIG_HELP,
  load,
  print,
  printJson,
  withStore,
  type ConfigOption,
} from './support.js';

export function registerAdminLink(program: Command): void {
  program
    .command('admin-link')
    .description(
      `print a one-time link that logs the box's local page in as admin (valid ${ADMIN_LINK_TTL_MS / 60_000} minutes, single use)`,
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((opts: ConfigOption & { json?: boolean }) => {
      const loaded = load(opts);
      const link = withStore(loaded, (store) =>
        new AdminLinkService(store, new TokenService(store)).create(approver()),
      );
      const url = `${DaemonClient.urlOf(loaded.config)}/#login=${link.secret}`;
      if (opts.json) printJson({ url, expiresAt: link.expiresAt });
      else print(url);
    });
}
