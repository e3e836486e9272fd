// `boxagent token create|list|revoke`: offline maintenance on the store (works with the daemon stopped).
import type { Command } from 'commander';
import { parseScopes, TokenService } from '../auth/token-service.js';
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

export function registerTokens(program: Command): void {
  const token = program.command('token').description('API tokens for the counter software and operators');
  token
    .command('create')
    .description('create a token; it is printed once and only its hash is kept')
    .requiredOption('--name <name>', 'who or what uses it, e.g. counter-app')
    .requiredOption('--scopes <list>', 'comma-separated: read,print,face,enroll,seal,admin')
    .option('--expires-in-days <days>', 'expiry in days (default: never)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action(
      (opts: ConfigOption & { name: string; scopes: string; expiresInDays?: string; json?: boolean }) => {
        const scopes = parseScopes(opts.scopes);
        let expiresInDays: number | undefined;
        if (opts.expiresInDays !== undefined) {
          expiresInDays = Number(opts.expiresInDays);
          if (!Number.isFinite(expiresInDays) || expiresInDays <= 0) {
            throw new CliError('--expires-in-days must be a positive number', EXIT_USAGE);
          }
        }
        const created = withStore(load(opts), (store) =>
          new TokenService(store).create({ name: opts.name, scopes, expiresInDays, actor: 'cli' }),
        );
        if (opts.json) printJson({ token: created.token, ...created.summary });
        else print(created.token);
      },
    );
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((opts: ConfigOption & { json?: boolean }) => {
      const list = withStore(load(opts), (store) => new TokenService(store).list());
      if (opts.json) return printJson(list);
      for (const t of list) {
        const state = t.revokedAt
          ? 'revoked'
          : t.expiresAt && Date.parse(t.expiresAt) < Date.now()
            ? 'expired'
            : 'active';
        print(`${t.id}  ${t.name.padEnd(20)} ${state.padEnd(8)} ${t.scopes.join(',')}`);
      }
    });
  token
    .command('revoke <idOrName>')
    .description('revoke a token by id or name')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .action((idOrName: string, opts: ConfigOption) => {
      const ok = withStore(load(opts), (store) => new TokenService(store).revoke(idOrName, 'cli'));
      if (!ok) throw new CliError(`no active token with id or name "${idOrName}"`);
      print(`revoked ${idOrName}`);
    });
}
