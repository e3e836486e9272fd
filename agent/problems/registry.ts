// The registry of problem types. Each has a stable code (the last part of its `type` URI) that HTTP,
// MQTT replies and the CLI all use; titles (in every locale, agent/messages/problem-titles.ts) are for humans and may change, codes may not. `status` is the
// category a problem falls in, written as the HTTP status it answers with; MQTT RPC replies carry the same
// number. Only the adapters' mapping (`document.ts`) reads it: services throw codes, never statuses.

import type { Bilingual } from '../messages/locale.js';
import { PROBLEM_TITLES } from '../messages/problem-titles.js';

export const PROBLEM_BASE = 'urn:boxagent:problem:';

const STATUS = {
  'invalid-request': 400,
  'malformed-json': 400,
  'malformed-multipart': 400,
  unauthorized: 401,
  'bad-signature': 401,
  forbidden: 403,
  'origin-not-allowed': 403,
  'not-found': 404,
  'no-card': 404,
  'clerk-confirmation-required': 422,
  'method-not-allowed': 405,
  'request-timeout': 408,
  'idempotency-key-reused': 409,
  'request-expired': 408,
  'device-busy': 409,
  'not-simulated': 409,
  'job-state-conflict': 409,
  'seal-token-invalid': 403,
  'seal-job-conflict': 409,
  'seal-interlock': 409,
  'seal-job-expired': 410,
  'pairing-conflict': 409,
  'update-in-progress': 409,
  'downgrade-refused': 409,
  'bad-release-signature': 422,
  'pairing-expired': 410,
  'payload-too-large': 413,
  'image-too-large': 413,
  'image-invalid': 422,
  'no-face': 422,
  'several-faces': 422,
  'face-quality': 422,
  'face-not-live': 422,
  'photo-unusable': 422,
  'capture-timeout': 422,
  'template-invalid': 422,
  'model-mismatch': 409,
  'person-exists': 409,
  'person-full': 409,
  'uri-too-long': 414,
  'unsupported-media-type': 415,
  'unprintable-document': 422,
  'unknown-template': 422,
  'misdirected-request': 421,
  'rate-limited': 429,
  'headers-too-large': 431,
  internal: 500,
  'insufficient-storage': 507,
  'device-unavailable': 503,
  'seal-device-error': 502,
  'not-ready': 503,
  'face-unavailable': 503,
  'camera-unavailable': 503,
  'face-busy': 503,
  'card-photo-unavailable': 503,
  'journal-unavailable': 503,
} as const satisfies Record<string, number>;

export type ProblemCode = keyof typeof STATUS;

// Every code has a title in every locale, or this does not compile.
const TITLES: Record<ProblemCode, Bilingual> = PROBLEM_TITLES;

/** Each code's status and English title (the docs and the CLI read these). */
export const PROBLEMS = Object.fromEntries(
  (Object.keys(STATUS) as ProblemCode[]).map((code) => [
    code,
    { status: STATUS[code], title: TITLES[code].en },
  ]),
) as Record<ProblemCode, { status: number; title: string }>;
