import { Type } from '@sinclair/typebox';
import { t } from '../messages/text.js';
import { Problem } from '../problems/problem.js';
import { defineOperation } from './operation.js';
import {
  FaceSourceSchema,
  IMAGE_BODY_LIMIT_BYTES,
  ImageRefSchema,
  PersonIdSchema,
  PersonSchema,
} from './face-schemas.js';

export const enrollPerson = defineOperation({
  name: 'persons.enroll',
  summary: 'Enrols a person from one or more face images (quality-gated; camera captures must be live).',
  scope: 'enroll',
  risk: 'identity',
  problems: ['person-exists', 'face-quality', 'face-not-live', 'no-face', 'several-faces'],
  idempotent: true,
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    {
      id: Type.Optional(PersonIdSchema),
      name: Type.String({ minLength: 1, maxLength: 200 }),
      images: Type.Optional(Type.Array(ImageRefSchema, { minItems: 1, maxItems: 20 })),
      idcard: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description:
            'Instead of images: an ID card reader; the photo of the card on it now (source must be document)',
        }),
      ),
      clerkConfirmed: Type.Optional(
        Type.Boolean({
          description: 'With idcard: the clerk confirms the card belongs to the person at the counter',
        }),
      ),
      source: FaceSourceSchema,
    },
    { additionalProperties: false },
  ),
  output: PersonSchema,
  http: { method: 'POST', path: '/v1/persons', status: 201 },
  handler(input, { services, principal }) {
    const { idcard, clerkConfirmed, images, ...rest } = input;
    if ((idcard === undefined) === (images === undefined)) {
      throw new Problem('invalid-request', t`give exactly one of "images" and "idcard"`, ['images']);
    }
    if (idcard === undefined) return services.face.enroll({ ...rest, images: images! }, principal.name);
    if (input.source !== 'document') {
      throw new Problem('invalid-request', t`a card photo is a document: send source "document"`, ['source']);
    }
    if (clerkConfirmed !== true) {
      throw new Problem(
        'clerk-confirmation-required',
        t`enrolling from the card photo needs the clerk to confirm the card is the resident's: clerkConfirmed: true`,
        ['clerkConfirmed'],
      );
    }
    const card = services.idcards.cardPhoto(idcard, ['idcard']);
    return services.face.enroll(
      {
        ...rest,
        images: [{ image: card.jpeg.toString('base64') }],
        card: { device: idcard, idNumber: card.idNumberMasked, clerkConfirmed: true },
      },
      principal.name,
    );
  },
});

export const addPersonFace = defineOperation({
  name: 'persons.addFace',
  summary: 'Adds a face image to an enrolled person (same gate as enrolment).',
  scope: 'enroll',
  risk: 'identity',
  problems: ['person-full', 'face-quality', 'face-not-live', 'no-face', 'several-faces'],
  idempotent: true,
  bodyLimitBytes: IMAGE_BODY_LIMIT_BYTES,
  input: Type.Object(
    { id: PersonIdSchema, image: ImageRefSchema.properties.image, source: FaceSourceSchema },
    { additionalProperties: false },
  ),
  output: PersonSchema,
  http: { method: 'POST', path: '/v1/persons/:id/faces', status: 201 },
  handler: (input, { services, principal }) =>
    services.face.addFace(
      { id: input.id, image: { image: input.image }, source: input.source },
      principal.name,
    ),
});

export const getPerson = defineOperation({
  name: 'persons.get',
  summary: 'An enrolled person and their faces (ids and models, no biometric data).',
  scope: 'enroll',
  risk: 'personal-data',
  input: Type.Object({ id: PersonIdSchema }, { additionalProperties: false }),
  output: PersonSchema,
  http: { method: 'GET', path: '/v1/persons/:id' },
  handler: (input, { services }) => services.face.getPerson(input.id),
});

export const deletePerson = defineOperation({
  name: 'persons.delete',
  summary:
    'Erasure: deletes the person and every face template; an audit entry without biometric data stays.',
  scope: 'enroll',
  risk: 'identity',
  input: Type.Object({ id: PersonIdSchema }, { additionalProperties: false }),
  output: Type.Object({ id: Type.String(), deleted: Type.Literal(true), faces: Type.Integer() }),
  http: { method: 'DELETE', path: '/v1/persons/:id' },
  handler: (input, { services, principal }) => services.face.deletePerson(input.id, principal.name),
});

export const listPersons = defineOperation({
  name: 'persons.list',
  summary: 'Enrolled persons by id, a page at a time (no biometric data).',
  scope: 'enroll',
  risk: 'personal-data',
  input: Type.Object(
    {
      after: Type.String({ default: '', maxLength: 128, description: 'Return ids after this one' }),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ persons: Type.Array(PersonSchema) }),
  http: { method: 'GET', path: '/v1/persons' },
  handler: (input, { services }) => ({ persons: services.face.listPersons(input.after, input.limit) }),
});
