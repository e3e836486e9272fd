// `boxagent fleet call BOX OPERATION --params JSON [--sign KEYFILE]`: one RPC on one box. The result is
// printed as JSON; an error reply exits 1 with the problem's title and detail on one line (`--json` prints the
// whole reply either way).
import type { Command } from 'commander';
import type { RpcReply } from '../../fleet/contract.js';
import { FleetCallTimeout } from '../../fleet/operator/fleet-client.js';
import { CliError, EXIT_FAILURE, EXIT_UNAVAILABLE, EXIT_USAGE, printJson } from '../support.js';
import {
  addOperatorOptions,
  addSignOptions,
  signingKey,
  withFleetClient,
  type OperatorOptions,
  type SignOptions,
} from './options.js';

interface CallOptions extends OperatorOptions, SignOptions {
  params: string;
  timeout: string;
  idempotencyKey?: string;
  locale?: string;
}

/** `--params`: a JSON object, or a one-line usage error. */
export function parseParams(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--params is not JSON: ${(err as Error).message}`, EXIT_USAGE);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError('--params must be a JSON object', EXIT_USAGE);
  return value as Record<string, unknown>;
}

/** One line for an error reply: `BOX OPERATION: title: detail (field /x)`. */
export function errorLine(box: string, operation: string, reply: Extract<RpcReply, { ok: false }>): string {
  const { title, detail, field, status } = reply.error;
  return `${box} ${operation}: ${title}${detail ? `: ${detail}` : ''}${field ? ` (field ${field})` : ''} [${status}]`.replace(
    /\s*\n\s*/g,
    ' ',
  );
}

export function registerCall(fleet: Command): void {
  addSignOptions(
    addOperatorOptions(
      fleet
        .command('call <box> <operation>')
        .description('run one operation on a box and print its result (exit 1 on an error reply)')
        .option('--params <json>', 'the operation input, a JSON object', '{}')
        .option(
          '--timeout <seconds>',
          'how long to wait for the reply (and the request to wait at the broker)',
          '30',
        )
        .option('--idempotency-key <key>', 'as the HTTP Idempotency-Key header')
        .option('--locale <locale>', 'language of an error: zh-CN or en'),
    ),
  ).action(async (box: string, operation: string, opts: CallOptions) => {
    const params = parseParams(opts.params);
    const sign = signingKey(opts);
    const timeoutSeconds = Number(opts.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
      throw new CliError(`--timeout ${opts.timeout}: expected seconds above 0`, EXIT_USAGE);
    if (opts.locale !== undefined && opts.locale !== 'zh-CN' && opts.locale !== 'en')
      throw new CliError(`--locale ${opts.locale}: expected zh-CN or en`, EXIT_USAGE);
    const reply = await withFleetClient(opts, async (client) => {
      try {
        return await client.call(box, operation, params, {
          sign,
          timeoutMs: timeoutSeconds * 1000,
          idempotencyKey: opts.idempotencyKey,
          locale: opts.locale as 'zh-CN' | 'en' | undefined,
        });
      } catch (err) {
        if (err instanceof FleetCallTimeout) throw new CliError(err.message, EXIT_UNAVAILABLE);
        throw err;
      }
    });
    if (opts.json) printJson(reply);
    else if (reply.ok) printJson(reply.result);
    if (reply.ok) return;
    if (!opts.json) throw new CliError(errorLine(box, operation, reply));
    // stdout stays the reply alone; the one line goes to stderr as for any failure.
    process.stderr.write(`boxagent: ${errorLine(box, operation, reply)}\n`);
    process.exitCode = EXIT_FAILURE;
  });
}
