// The registry of problem types. Each has a stable code (the last part of its `type` URI) that HTTP,
// MQTT replies and the CLI all use; titles are for humans and may change, codes may not. `status` is the
// category a problem falls in, written as the HTTP status it answers with; MQTT RPC replies carry the same
// number. Only the adapters' mapping (`document.ts`) reads it: services throw codes, never statuses.

export const PROBLEM_BASE = 'urn:boxagent:problem:';

export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'malformed-multipart': { status: 400, title: 'The request body is not valid multipart/form-data' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  'bad-signature': { status: 401, title: 'The request signature is missing, invalid or replayed' },
  forbidden: { status: 403, title: 'The token lacks the scope this operation needs' },
  'origin-not-allowed': { status: 403, title: 'This browser origin is not allowed' },
  'not-found': { status: 404, title: 'No such resource' },
  'no-card': { status: 404, title: 'No ID card was read recently' },
  'clerk-confirmation-required': {
    status: 422,
    title: 'A clerk must confirm the card belongs to the person present (clerkConfirmed: true)',
  },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'The request was not received in time' },
  'idempotency-key-reused': { status: 409, title: 'The Idempotency-Key was used for a different request' },
  'request-expired': { status: 408, title: 'The request expired before it could run' },
  'device-busy': { status: 409, title: 'The device is busy' },
  'not-simulated': { status: 409, title: 'The device is not simulated' },
  'job-state-conflict': { status: 409, title: 'The job is not in a state that allows this' },
  'seal-token-invalid': { status: 403, title: 'The confirmation token does not match this seal job' },
  'seal-job-conflict': { status: 409, title: 'The seal job is not in a state that allows this' },
  'seal-interlock': {
    status: 409,
    title: 'The seal machine is not ready to stamp (cover, document, head or fault)',
  },
  'seal-job-expired': { status: 410, title: 'The seal job expired before it was confirmed' },
  'pairing-conflict': { status: 409, title: 'The pairing request was already approved or denied' },
  'pairing-expired': { status: 410, title: 'The pairing request has expired' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'image-too-large': { status: 413, title: 'The image has too many pixels' },
  'image-invalid': { status: 422, title: 'The image cannot be read' },
  'no-face': { status: 422, title: 'No face was found in the image' },
  'several-faces': { status: 422, title: 'More than one face was found in the image' },
  'face-quality': { status: 422, title: 'The face is not good enough to enrol' },
  'face-not-live': { status: 422, title: 'The face did not pass the liveness check' },
  'photo-unusable': {
    status: 422,
    title: 'The picture cannot make an ID photo (framing, size or background)',
  },
  'capture-timeout': {
    status: 422,
    title: 'The camera saw no good, live face in time (see `missing` and `hint`)',
  },
  'template-invalid': { status: 422, title: 'The template is not valid' },
  'model-mismatch': { status: 409, title: 'The template was made by another face model' },
  'person-exists': { status: 409, title: 'A person with this id is already enrolled' },
  'person-full': { status: 409, title: 'The person has the maximum number of faces' },
  'uri-too-long': { status: 414, title: 'A part of the URL is too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'unprintable-document': { status: 422, title: 'The document cannot be printed as asked' },
  'unknown-template': { status: 422, title: 'No such print template' },
  'misdirected-request': { status: 421, title: 'The Host header does not name this box' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  internal: { status: 500, title: 'Internal error' },
  'insufficient-storage': { status: 507, title: 'The box has no room left to store this request' },
  'device-unavailable': { status: 503, title: 'The device is not ready' },
  'card-photo-unavailable': {
    status: 503,
    title: "The card's photo was not decoded (no decoder, or the vendor's decoder failed)",
  },
  'seal-device-error': { status: 502, title: 'The seal machine did not answer as expected' },
  'not-ready': { status: 503, title: 'The agent is not ready' },
  'face-unavailable': { status: 503, title: 'The face service is not available' },
  'camera-unavailable': { status: 503, title: 'The camera cannot take a picture now' },
  'face-busy': { status: 503, title: 'The face service is busy; retry shortly' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;
