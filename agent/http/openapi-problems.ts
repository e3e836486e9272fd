// Errors in the OpenAPI document: the Problem schema (RFC 9457 members plus every declared extension) and,
// per operation, one response per status it can answer with, listing the problem codes behind it. The codes
// come from what the operation's shape implies (documented below) and from its own `problems`.
import type { AnyOperation } from '../operations/operation.js';
import { ProblemExtensionsSchema } from '../problems/extensions.js';
import { PROBLEM_BASE, PROBLEMS, type ProblemCode } from '../problems/registry.js';
import { imageFieldPaths } from './multipart-form.js';
import { plain, type JsonSchema } from './openapi-schemas.js';

export const PROBLEM_SCHEMA_REF = '#/components/schemas/Problem';

/** components.schemas.Problem: the standard members, then the extensions a problem may carry. */
export function problemSchema(): JsonSchema {
  const extensions = plain(ProblemExtensionsSchema).properties as Record<string, unknown>;
  return {
    type: 'object',
    description: `RFC 9457 problem. \`type\` is ${PROBLEM_BASE}<code>; the other members are extensions some codes carry.`,
    required: ['type', 'title', 'status'],
    properties: {
      type: {
        type: 'string',
        enum: Object.keys(PROBLEMS).map((c) => PROBLEM_BASE + c),
        description: 'The problem code as a URN; stable',
      },
      title: { type: 'string', description: 'For people; may change' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      field: {
        type: 'string',
        description: 'JSON pointer to the failing input field, or the name of the failing request header',
      },
      ...extensions,
    },
    additionalProperties: true,
  };
}

/** Codes every routed operation can answer with: Host, Origin, token, scope, input, throttling, a fault. */
const EVERY_OPERATION: readonly ProblemCode[] = [
  'invalid-request',
  'unauthorized',
  'forbidden',
  'origin-not-allowed',
  'misdirected-request',
  'rate-limited',
  'internal',
];
/** Input fields that name a device: the device may be unknown, not ready or busy. */
const DEVICE_FIELDS = new Set(['printer', 'device', 'camera']);
const DEVICE_PROBLEMS: readonly ProblemCode[] = ['not-found', 'device-unavailable', 'device-busy'];
const IMAGE_PROBLEMS: readonly ProblemCode[] = [
  'image-too-large',
  'image-invalid',
  'face-unavailable',
  'face-busy',
  'malformed-multipart',
];
const BODY_PROBLEMS: readonly ProblemCode[] = [
  'malformed-json',
  'payload-too-large',
  'unsupported-media-type',
];

/** Every problem code an operation can answer with, by its shape and its declared `problems`. */
export function operationProblems(op: AnyOperation): ProblemCode[] {
  const codes = new Set<ProblemCode>(EVERY_OPERATION);
  const add = (list: readonly ProblemCode[]): void => list.forEach((c) => codes.add(c));
  const method = op.http?.method ?? 'GET';
  if (method !== 'GET' && method !== 'DELETE') add(BODY_PROBLEMS);
  if (/:[A-Za-z_]/.test(op.http?.path ?? '')) add(['not-found']);
  const fields = Object.keys(op.input.properties);
  if (fields.some((f) => DEVICE_FIELDS.has(f))) add(DEVICE_PROBLEMS);
  if (imageFieldPaths(op.input).length > 0) add(IMAGE_PROBLEMS);
  if (op.idempotent) add(['idempotency-key-reused', 'insufficient-storage']);
  add(op.problems ?? []);
  return [...codes];
}

const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before retrying (also the `retryAfter` member)',
  schema: { type: 'integer' },
};
const RETRY_STATUSES = new Set([429, 503, 507]);

/** The error responses of an operation: one per status, each naming its codes, as application/problem+json. */
export function errorResponses(op: AnyOperation): Record<string, unknown> {
  return problemResponses(operationProblems(op));
}

/** Error responses for these problem codes, one per status, plus a default for any other problem. */
export function problemResponses(codes: readonly ProblemCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) {
    const status = PROBLEMS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const statusCodes = byStatus.get(status)!;
    responses[String(status)] = problemResponse(
      statusCodes.map((c) => `\`${c}\`: ${PROBLEMS[c].title}`).join('; '),
      RETRY_STATUSES.has(status),
    );
  }
  responses.default = problemResponse('Any other problem (see the Problem schema for the codes)', false);
  return responses;
}

export function problemResponse(description: string, retryAfter: boolean): Record<string, unknown> {
  return {
    description,
    ...(retryAfter ? { headers: { 'Retry-After': RETRY_AFTER_HEADER } } : {}),
    content: { 'application/problem+json': { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
}
