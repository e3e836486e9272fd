// `boxagent token create|list|revoke|pairings|approve|deny`: maintenance on the store, with the daemon stopped
// or running (the daemon reads tokens and pairings from the database; it alone hands a paired token out).
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { PairingService, type PairingView } from '../auth/pairing-service.js';
import { parseScopes, TokenService } from '../auth/token-service.js';
import { EventLog } from '../events/event-log.js';
import { Problem } from '../problems/problem.js';
import type { Store } from '../store/store.js';
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
        print(
          `${t.id}  ${t.name.padEnd(20)} ${state.padEnd(8)} ${t.scopes.join(',').padEnd(24)} ${t.origin ?? '(any origin)'}`,
        );
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
  token
    .command('pairings')
    .description('list pending pairing requests from pages (approve one by its code)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((opts: ConfigOption & { json?: boolean }) => {
      const list = withPairings(load(opts), (pairings) => pairings.pending());
      if (opts.json) return printJson(list);
      if (list.length === 0) return print('no pending pairing requests');
      for (const p of list) {
        print(`${p.code}  ${p.origin}  ${p.scopes.join(',')}  "${p.name}"  expires ${p.expiresAt}`);
      }
    });
  token
    .command('approve <code>')
    .description(
      "approve a page's pairing request by the code it shows; it receives a token bound to its origin",
    )
    .option('--scopes <list>', 'grant only these of the scopes asked for (comma-separated)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((code: string, opts: ConfigOption & { scopes?: string; json?: boolean }) => {
      const scopes = opts.scopes === undefined ? undefined : parseScopes(opts.scopes);
      const done = withPairings(load(opts), (pairings) => pairings.approve(code, { scopes, by: approver() }));
      if (opts.json) return printJson(done);
      print(`approved ${describe(done)} with scopes ${(done.approvedScopes ?? []).join(',')}`);
    });
  token
    .command('deny <code>')
    .description("deny a page's pairing request by its code")
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((code: string, opts: ConfigOption & { json?: boolean }) => {
      const done = withPairings(load(opts), (pairings) => pairings.deny(code, approver()));
      if (opts.json) return printJson(done);
      print(`denied ${describe(done)}`);
    });
}

const describe = (p: PairingView): string => `${p.code} "${p.name}" from ${p.origin}`;

/** Who approves, for the audit log: the CLI and the account that ran it. */
export function approver(): string {
  let user = String(process.getuid?.() ?? '?');
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this uid (a container): the uid says who.
  }
  return `cli (${user})`;
}

/** Runs `fn` on the pairings in the store; a refusal (unknown code, expired…) becomes a one-line error. */
function withPairings<T>(loaded: LoadedConfig, fn: (pairings: PairingService) => T): T {
  const { config } = loaded;
  return withStore(loaded, (store: Store) => {
    const events = new EventLog(store, config.storage.maxEvents, config.mqtt.url !== undefined);
    const pairings = new PairingService(store, events, new TokenService(store), config.http.pairing);
    try {
      return fn(pairings);
    } catch (err) {
      if (err instanceof Problem)
        throw new CliError(err.message, err.code === 'invalid-request' ? EXIT_USAGE : undefined);
      throw err;
    }
  });
}
