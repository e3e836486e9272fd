// Runs an operation for any adapter: scope check, input validation, Idempotency-Key handling, handler.
import { createHash } from 'node:crypto';
import { hasScope } from '../auth/token-service.js';
import type { AnyOperation, OperationContext } from './operation.js';
import { Problem } from '../problems/problem.js';
import { validateInput } from './validation.js';
import { t } from '../messages/text.js';
import { canonicalJson } from './canonical-json.js';

// Kept here too: fleet code imported it from this module first.
export { canonicalJson } from './canonical-json.js';

export interface DispatchOptions {
  /** Input assembled from a URL (path and query) is coerced from text; a JSON body is not. */
  fromUrl: boolean;
  idempotencyKey?: string;
}

export interface DispatchResult {
  output: unknown;
  /** True when an Idempotency-Key matched an earlier identical request and its result is returned again. */
  replayed: boolean;
}

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export class Dispatcher {
  /** Requests under way per idempotency slot, so a retry racing the original waits for it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  async dispatch(
    op: AnyOperation,
    input: Record<string, unknown>,
    ctx: OperationContext,
    opts: DispatchOptions,
  ): Promise<DispatchResult> {
    if (!hasScope(ctx.principal, op.scope)) {
      throw new Problem('forbidden', t`operation ${op.name} needs scope "${op.scope}"`, undefined, {
        requiredScope: op.scope,
      });
    }
    validateInput(op, input, opts.fromUrl);
    const key = op.idempotent ? opts.idempotencyKey : undefined;
    if (key === undefined) return { output: await op.handler(input, ctx), replayed: false };
    if (!KEY_RE.test(key)) {
      throw new Problem('invalid-request', t`Idempotency-Key must be 1-255 visible ASCII characters`, {
        header: 'Idempotency-Key',
      });
    }

    const slot = `${ctx.principal.tokenId}\0${op.name}\0${key}`;
    // Loop: when the request we waited for failed, another waiter may already have started its retry.
    for (let earlier = this.inFlight.get(slot); earlier; earlier = this.inFlight.get(slot)) {
      await earlier.catch(() => undefined);
    }

    const requestHash = hashInput(input);
    const repo = ctx.services.store.idempotency;
    const saved = repo.find(ctx.principal.tokenId, op.name, key);
    if (saved) {
      if (saved.requestHash !== requestHash) {
        throw new Problem(
          'idempotency-key-reused',
          t`Idempotency-Key "${key}" was used with a different request`,
          { header: 'Idempotency-Key' },
        );
      }
      return { output: saved.response, replayed: true };
    }

    let savedByHandler = false;
    const idempotency = {
      save: (output: unknown) => {
        repo.save(ctx.principal.tokenId, op.name, key, { requestHash, response: output });
        savedByHandler = true;
      },
    };
    const run = Promise.resolve(op.handler(input, { ...ctx, idempotency }));
    this.inFlight.set(slot, run);
    try {
      const output = await run;
      // Only successes are remembered: a failed attempt may be retried with the same key.
      if (!savedByHandler) repo.save(ctx.principal.tokenId, op.name, key, { requestHash, response: output });
      return { output, replayed: false };
    } finally {
      this.inFlight.delete(slot);
    }
  }
}

/** A hash of the input that ignores key order. */
function hashInput(input: unknown): string {
  let text: string;
  try {
    text = canonicalJson(input);
  } catch {
    // No canonical form (a lone surrogate): still the same hash for the same request as sent.
    text = JSON.stringify(input) ?? 'null';
  }
  return createHash('sha256').update(text).digest('hex');
}
