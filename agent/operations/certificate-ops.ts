// Certificates issued at the counter: compose from a template, print on the photo printer, then (if asked)
// a seal job for the clerk to confirm. Scope `print`; asking for a seal also needs scope `seal`, and only
// callers with `seal` see the seal job's confirmation token.
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema.js';
import { hasScope } from '../auth/token-service.js';
import { CERTIFICATE_STATES } from '../certificates/certificate-jobs.js';
import { Base64Image, IMAGE_BODY_LIMIT_BYTES } from './face-schemas.js';
import { BinaryOutput, BinarySchema, defineOperation } from './operation.js';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const CertificateSchema = Type.Object({
  id: Type.String(),
  printer: Type.String(),
  template: Type.String(),
  state: StringEnum(CERTIFICATE_STATES),
  fields: Type.Record(Type.String(), Type.String()),
  submittedBy: Type.String(),
  documentSha256: Nullable(Type.String({ description: 'SHA-256 of the composed image sent to the printer' })),
  printerJobId: Type.Union([Type.Integer(), Type.Null()], {
    description: "The printer's job id (IPP job-id)",
  }),
  seal: Type.Union([
    Type.Object({
      device: Type.String(),
      operator: Type.String(),
      jobId: Nullable(Type.String({ description: 'The seal job, created once the card is printed' })),
      confirmationToken: Type.Optional(
        Type.String({
          description: 'For seal.confirm; shown to callers with scope seal while the seal job is pending',
        }),
      ),
    }),
    Type.Null(),
  ]),
  error: Nullable(Type.String({ description: 'Why it failed or is in doubt, or the last note' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Id = { id: Type.String({ minLength: 1, maxLength: 64 }) };

export const submitCertificate = defineOperation({
  name: 'certificates.submit',
  summary:
    'Issues a certificate: composes it from a template, fields and photo, prints it on the photo printer, then creates the seal job if asked; 202 with the job. Progress: certificate.job events.',
  scope: 'print',
  risk: 'document',
  problems: [
    'unknown-template',
    'unprintable-document',
    'photo-unusable',
    'no-face',
    'several-faces',
    'capture-timeout',
    'camera-unavailable',
  ],
  idempotent: true,
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    {
      template: Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'A file in config/certificate-templates/',
      }),
      fields: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 500 })),
      photo: Type.Object(
        {
          image: Type.Optional(Base64Image),
          camera: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description: 'Take the ID photo with this camera instead (implies crop)',
            }),
          ),
          crop: Type.Boolean({
            default: false,
            description:
              "Cut an ID photo for the template's photo box from the picture by its face landmarks",
          }),
          requireLightBackground: Type.Boolean({
            default: true,
            description: 'With crop: refuse a dark or busy background',
          }),
        },
        { additionalProperties: false, description: 'Either image or camera' },
      ),
      printer: Type.String({ minLength: 1, maxLength: 64, description: 'Photo printer device id' }),
      seal: Type.Optional(
        Type.Object(
          {
            device: Type.String({ minLength: 1, maxLength: 64 }),
            operator: Type.String({ minLength: 1, maxLength: 100 }),
          },
          { additionalProperties: false, description: 'Create a seal job once printed (needs scope seal)' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  output: CertificateSchema,
  http: { method: 'POST', path: '/v1/certificates', status: 202 },
  async handler(input, { services, principal, idempotency }) {
    if (input.seal && !hasScope(principal, 'seal')) {
      throw new Problem('forbidden', t`asking for a seal needs scope "seal"`, ['seal'], {
        requiredScope: 'seal',
      });
    }
    return services.certificates.submit(
      input,
      principal.name,
      idempotency ? (view) => idempotency.save(view) : undefined,
    );
  },
});

export const getCertificate = defineOperation({
  name: 'certificates.get',
  summary: 'One certificate job.',
  scope: 'print',
  risk: 'personal-data',
  input: Type.Object(Id, { additionalProperties: false }),
  output: CertificateSchema,
  http: { method: 'GET', path: '/v1/certificates/:id' },
  handler: (input, { services, principal }) =>
    services.certificates.get(input.id, hasScope(principal, 'seal')),
});

export const listCertificates = defineOperation({
  name: 'certificates.list',
  summary: 'Certificate jobs, newest first.',
  scope: 'print',
  risk: 'personal-data',
  input: Type.Object(
    {
      state: Type.Optional(StringEnum(CERTIFICATE_STATES)),
      printer: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ certificates: Type.Array(CertificateSchema) }),
  http: { method: 'GET', path: '/v1/certificates' },
  handler: (input, { services, principal }) => ({
    certificates: services.certificates.list(input, hasScope(principal, 'seal')),
  }),
});

export const certificateDocument = defineOperation({
  name: 'certificates.document',
  summary: 'The composed certificate image (300 dpi) as sent to the printer.',
  scope: 'print',
  risk: 'personal-data',
  problems: ['not-found'],
  input: Type.Object(Id, { additionalProperties: false }),
  output: BinarySchema('image/jpeg'),
  http: { method: 'GET', path: '/v1/certificates/:id/document' },
  handler(input, { services }) {
    const doc = services.certificates.document(input.id);
    return new BinaryOutput(doc.format, doc.data);
  },
});

export const cancelCertificate = defineOperation({
  name: 'certificates.cancel',
  summary: 'Cancels a queued certificate; 409 once it is composing, printing or finished.',
  scope: 'print',
  risk: 'document',
  problems: ['job-state-conflict'],
  input: Type.Object(Id, { additionalProperties: false }),
  output: CertificateSchema,
  http: { method: 'DELETE', path: '/v1/certificates/:id' },
  handler: (input, { services, principal }) => services.certificates.cancel(input.id, principal.name),
});

export const resolveCertificate = defineOperation({
  name: 'certificates.resolve',
  summary:
    'Settles a certificate in doubt: "printed" marks it printed (and creates its seal job), "reprint" queues it again.',
  scope: 'print',
  risk: 'document',
  problems: ['job-state-conflict'],
  input: Type.Object(
    { ...Id, outcome: StringEnum(['printed', 'reprint'] as const) },
    { additionalProperties: false },
  ),
  output: CertificateSchema,
  http: { method: 'POST', path: '/v1/certificates/:id/resolve' },
  handler: (input, { services, principal }) =>
    services.certificates.resolve(input.id, input.outcome, principal.name),
});

export const resealCertificate = defineOperation({
  name: 'certificates.seal',
  summary:
    'A new seal job for a printed certificate whose seal job expired or failed before pressing; pending, to be confirmed with its token like any other. 409 while the current seal job is pending, firing, in doubt or done.',
  scope: 'seal',
  risk: 'document',
  problems: ['job-state-conflict', 'seal-job-conflict'],
  idempotent: true,
  input: Type.Object(Id, { additionalProperties: false }),
  output: CertificateSchema,
  http: { method: 'POST', path: '/v1/certificates/:id/seal' },
  handler: (input, { services, principal, idempotency }) =>
    services.certificates.reseal(
      input.id,
      principal.name,
      idempotency ? (view) => idempotency.save(view) : undefined,
    ),
});
