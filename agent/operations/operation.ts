// An operation is declared once — name, schemas, scope, handler — and every adapter (HTTP now; MQTT RPC and
// the CLI later) dispatches into it. The OpenAPI document is generated from the same declarations.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Scope } from '../../config/schema.js';
import type { Principal } from '../auth/token-service.js';
import type { Services } from '../services.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpBinding {
  method: HttpMethod;
  /** Fastify-style path; `:name` parameters are taken from the input schema's properties of that name. */
  path: string;
  /** Status on success (default 200). */
  status?: number;
}

export interface OperationContext {
  services: Services;
  principal: Principal;
  /** Where the call came from, for the audit log: `http`, `mqtt`, `cli`. */
  via: 'http' | 'mqtt' | 'cli';
}

export interface Operation<I extends TObject = TObject, O extends TSchema = TSchema> {
  name: string;
  summary: string;
  scope: Scope;
  input: I;
  output: O;
  http?: HttpBinding;
  /** Request body limit for this operation when it must differ from `http.bodyLimitBytes` (images). */
  bodyLimitBytes?: number;
  /** Creates a job or another side effect that must not happen twice: `Idempotency-Key` is honoured. */
  idempotent?: boolean;
  // Method syntax on purpose: lets a typed operation stand in a list of AnyOperation.
  handler(input: Static<I>, ctx: OperationContext): Promise<Static<O>> | Static<O>;
}

/** Declares an operation with its types inferred from its schemas. */
export function defineOperation<I extends TObject, O extends TSchema>(op: Operation<I, O>): Operation<I, O> {
  return op;
}

/** An operation with its schema types erased, as adapters handle them. */
export type AnyOperation = Operation<TObject, TSchema>;
