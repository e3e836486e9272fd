// Seal jobs over the catalog: create → confirm with the token → done | failed | in_doubt; resolve settles
// an in-doubt job. The confirmation token is returned once, at creation, and stored only as a hash.
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema.js';
import { SEAL_JOB_STATES, type SealJobRecord } from '../sealing/seal-jobs.js';
import { defineOperation } from './operation.js';

const Document = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. senior-citizen-card' }),
    number: Type.String({ minLength: 1, maxLength: 128, description: 'The certificate number' }),
    hash: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the document file, if any' }),
    ),
  },
  { additionalProperties: false },
);

const Json = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

export const SealJobSchema = Type.Object({
  id: Type.String(),
  device: Type.String(),
  state: StringEnum(SEAL_JOB_STATES),
  document: Document,
  operator: Type.String(),
  createdBy: Type.String({ description: 'Name of the token that created the job' }),
  expiresAt: Type.String({ format: 'date-time', description: 'Confirm before this time' }),
  result: Json,
  error: Json,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

/** The job as callers see it: never the token hash. */
function view(job: SealJobRecord): Omit<SealJobRecord, 'tokenHash'> {
  const rest: Partial<SealJobRecord> = { ...job };
  delete rest.tokenHash;
  return rest as Omit<SealJobRecord, 'tokenHash'>;
}

const JobId = { id: Type.String({ minLength: 1, maxLength: 64 }) };

export const createSealJob = defineOperation({
  name: 'seal.create',
  summary: 'Creates a seal job, pending until confirmed with the returned token before it expires.',
  scope: 'seal',
  risk: 'document',
  idempotent: true,
  input: Type.Object(
    {
      device: Type.String({ minLength: 1, maxLength: 64 }),
      document: Document,
      operator: Type.String({ minLength: 1, maxLength: 100, description: 'The clerk who asks for the seal' }),
    },
    { additionalProperties: false },
  ),
  output: Type.Composite([
    SealJobSchema,
    Type.Object({
      confirmationToken: Type.String({ description: 'Pass to confirm; shown only here' }),
    }),
  ]),
  http: { method: 'POST', path: '/v1/seal-jobs', status: 201 },
  handler(input, { services, principal }) {
    const { job, token } = services.seals.create(input, principal.name);
    return { ...view(job), confirmationToken: token };
  },
});

export const confirmSealJob = defineOperation({
  name: 'seal.confirm',
  summary: 'Confirms a pending seal job: checks the interlocks and presses the seal once.',
  scope: 'seal',
  risk: 'physical',
  problems: [
    'seal-token-invalid',
    'seal-job-conflict',
    'seal-interlock',
    'seal-job-expired',
    'seal-device-error',
    'device-busy',
    'device-unavailable',
  ],
  idempotent: true,
  input: Type.Object(
    { ...JobId, token: Type.String({ minLength: 1, maxLength: 200 }) },
    { additionalProperties: false },
  ),
  output: SealJobSchema,
  http: { method: 'POST', path: '/v1/seal-jobs/:id/confirm' },
  async handler(input, { services, principal }) {
    return view(await services.seals.confirm(input.id, input.token, principal.name));
  },
});

export const getSealJob = defineOperation({
  name: 'seal.get',
  summary: 'One seal job.',
  scope: 'seal',
  risk: 'document',
  input: Type.Object(JobId, { additionalProperties: false }),
  output: SealJobSchema,
  http: { method: 'GET', path: '/v1/seal-jobs/:id' },
  handler: (input, { services }) => view(services.seals.get(input.id)),
});

export const listSealJobs = defineOperation({
  name: 'seal.list',
  summary: 'Seal jobs, newest first.',
  scope: 'seal',
  risk: 'document',
  input: Type.Object(
    {
      state: Type.Optional(StringEnum(SEAL_JOB_STATES)),
      device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ jobs: Type.Array(SealJobSchema) }),
  http: { method: 'GET', path: '/v1/seal-jobs' },
  handler: (input, { services }) => ({ jobs: services.seals.list(input).map(view) }),
});

export const resolveSealJob = defineOperation({
  name: 'seal.resolve',
  summary: 'Settles an in-doubt seal job as done or failed, after an operator looked at the document.',
  scope: 'seal',
  risk: 'document',
  problems: ['seal-job-conflict'],
  input: Type.Object(
    {
      ...JobId,
      outcome: StringEnum(['done', 'failed'] as const),
      note: Type.String({ minLength: 1, maxLength: 500, description: 'What the operator saw' }),
    },
    { additionalProperties: false },
  ),
  output: SealJobSchema,
  http: { method: 'POST', path: '/v1/seal-jobs/:id/resolve' },
  handler: (input, { services, principal }) =>
    view(services.seals.resolve(input.id, input.outcome, input.note, principal.name)),
});
