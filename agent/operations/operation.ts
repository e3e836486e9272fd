// An operation is declared once — name, schemas, scope, handler — and every adapter (HTTP now; MQTT RPC and
// the CLI later) dispatches into it. The OpenAPI document is generated from the same declarations.
import { Type, type Static, type TObject, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { Risk, Scope } from '../../config/schema.js';
import type { Principal } from '../auth/token-service.js';
import type { ProblemCode } from '../problems/registry.js';
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
  /**
   * Present when the call carries an Idempotency-Key: a handler that creates a record calls `save(output)`
   * inside its own store transaction, so the record and the key commit together. Otherwise the Dispatcher
   * saves the key after the handler returns.
   */
  idempotency?: { save(output: unknown): void };
}

/** Output that is not JSON (an image, a file): adapters send `body` as is with `contentType`. */
export class BinaryOutput {
  constructor(
    readonly contentType: string,
    readonly body: Buffer,
    /** Facts about the body an HTTP caller reads from headers (e.g. an ID photo's measured framing). */
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Response headers a BinaryOutput carries: name → what it says (documented in OpenAPI, exposed to pages). */
export type BinaryHeaders = Readonly<Record<string, string>>;

/**
 * The output schema of an operation that returns BinaryOutput: documents the content type and the headers
 * the handler sets (`x-headers`, moved to the response's headers in the OpenAPI document).
 */
export function BinarySchema(contentType: string, headers: BinaryHeaders = {}): TUnsafe<BinaryOutput> {
  return Type.Unsafe<BinaryOutput>({
    type: 'string',
    format: 'binary',
    contentMediaType: contentType,
    ...(Object.keys(headers).length > 0 ? { 'x-headers': headers } : {}),
  });
}

/** The headers a BinarySchema declares. */
export function binaryHeaders(schema: TSchema): BinaryHeaders {
  return ((schema as Record<string, unknown>)['x-headers'] as BinaryHeaders | undefined) ?? {};
}

export interface Operation<I extends TObject = TObject, O extends TSchema = TSchema> {
  name: string;
  summary: string;
  scope: Scope;
  /** What the operation can do to residents and the counter (`config/sections/risks.ts`); decides MQTT signing. */
  risk: Risk;
  /**
   * When some inputs are riskier than `risk` (a reprint of a form in doubt): the class for these params, as
   * sent (checked before validation, so it must cope with any shape).
   */
  riskOf?(params: Record<string, unknown>): Risk;
  /**
   * Runs over MQTT only when signed by a fleet key, whatever `mqtt.signing.required` says (agent updates,
   * restarts, logs). Such an operation has no HTTP binding.
   */
  alwaysSigned?: boolean;
  input: I;
  output: O;
  /**
   * Problems the operation's own work can end in, beyond those its shape implies (bad input, auth, an unknown
   * `:id`, a device that is absent or busy, Idempotency-Key reuse, image checks): documented in OpenAPI.
   */
  problems?: readonly ProblemCode[];
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
