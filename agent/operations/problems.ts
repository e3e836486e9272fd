// The registry of problem types. Each has a stable code (the last part of its `type` URI) that HTTP,
// MQTT replies and the CLI all use; titles are for humans and may change, codes may not.

export const PROBLEM_BASE = 'urn:boxagent:problem:';

export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  'bad-signature': { status: 401, title: 'The request signature is missing, invalid or replayed' },
  forbidden: { status: 403, title: 'The token lacks the scope this operation needs' },
  'origin-not-allowed': { status: 403, title: 'This browser origin is not allowed' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'idempotency-key-reused': { status: 409, title: 'The Idempotency-Key was used for a different request' },
  'request-expired': { status: 408, title: 'The request expired before it could run' },
  'device-busy': { status: 409, title: 'The device is busy' },
  'not-simulated': { status: 409, title: 'The device is not simulated' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'misdirected-request': { status: 421, title: 'The Host header does not name this box' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'device-unavailable': { status: 503, title: 'The device is not ready' },
  'not-ready': { status: 503, title: 'The agent is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The failing field as a JSON pointer into the input, where there is one. */
  field?: string;
  [extension: string]: unknown;
}

export class Problem extends Error {
  override name = 'Problem';
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly field?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
  }

  get status(): number {
    return PROBLEMS[this.code].status;
  }

  toJSON(): ProblemDocument {
    return {
      ...this.extensions,
      type: PROBLEM_BASE + this.code,
      title: PROBLEMS[this.code].title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(this.field === undefined ? {} : { field: this.field }),
    };
  }
}
