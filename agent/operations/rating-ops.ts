// Service ratings (好差评) for the counter software: ask the resident (the pad lights and waits; 202 with the
// waiting rating, the answer arrives on /v1/events as rating.job), look ratings up, cancel one still waiting.
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema.js';
import { RATING_JOB_STATES } from '../ratings/rating-jobs.js';
import type { Services } from '../services.js';
import { defineOperation } from './operation.js';

const RatingSchema = Type.Object({
  id: Type.String(),
  device: Type.String({ description: 'The rating pad' }),
  state: StringEnum(RATING_JOB_STATES),
  counter: Type.String(),
  service: Type.String(),
  timeoutMs: Type.Integer(),
  rating: Type.Union([
    Type.Object({
      value: Type.Integer({ minimum: 1, maximum: 5, description: '5 = 非常满意 … 1 = 非常不满意' }),
      zh: Type.String({ description: 'e.g. 非常满意' }),
      en: Type.String({ description: 'e.g. Very satisfied' }),
    }),
    Type.Null(),
  ]),
  reason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why it timed out, failed or was canceled',
  }),
  requestedBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const RatingId = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });

function ratings(services: Services) {
  return services.ratings;
}

export const requestRating = defineOperation({
  name: 'ratings.request',
  summary:
    'Asks the resident to rate the service just given: the pad lights and waits for a key. 202 with the waiting rating; the answer (or a timeout) is a rating.job event. 409 device-busy while the pad waits for another.',
  scope: 'print',
  risk: 'print',
  problems: ['device-busy', 'device-unavailable'],
  idempotent: true,
  input: Type.Object(
    {
      device: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description: 'The rating pad; may be left out when the box has one',
        }),
      ),
      counter: Name('The service window asking (e.g. "3号窗口")'),
      service: Name('The service just given (e.g. its item code or name)'),
      timeoutMs: Type.Optional(
        Type.Integer({ minimum: 1000, maximum: 600_000, description: "Default: the pad's defaultTimeoutMs" }),
      ),
      prompt: Type.Optional(Type.String({ maxLength: 60, description: 'Shown on pads with a display' })),
    },
    { additionalProperties: false },
  ),
  output: RatingSchema,
  http: { method: 'POST', path: '/v1/ratings', status: 202 },
  handler: (input, { services, principal, idempotency }) =>
    ratings(services).request(
      input,
      principal.name,
      idempotency ? (view) => idempotency.save(view) : undefined,
    ),
});

export const getRating = defineOperation({
  name: 'ratings.get',
  summary: 'One rating request and its answer.',
  scope: 'read',
  risk: 'read',
  input: RatingId,
  output: RatingSchema,
  http: { method: 'GET', path: '/v1/ratings/:id' },
  handler: (input, { services }) => ratings(services).get(input.id),
});

export const listRatings = defineOperation({
  name: 'ratings.list',
  summary: 'Rating requests, newest first, optionally of one state or pad.',
  scope: 'read',
  risk: 'read',
  input: Type.Object(
    {
      state: Type.Optional(StringEnum(RATING_JOB_STATES)),
      device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ ratings: Type.Array(RatingSchema) }),
  http: { method: 'GET', path: '/v1/ratings' },
  handler: (input, { services }) => ({
    ratings: ratings(services).list({
      limit: input.limit,
      ...(input.state ? { state: input.state } : {}),
      ...(input.device ? { device: input.device } : {}),
    }),
  }),
});

export const cancelRating = defineOperation({
  name: 'ratings.cancel',
  summary: 'Ends a rating still waiting for a key (the pad goes dark); 409 once it has an answer.',
  scope: 'print',
  risk: 'print',
  problems: ['job-state-conflict'],
  input: RatingId,
  output: RatingSchema,
  http: { method: 'DELETE', path: '/v1/ratings/:id' },
  handler: (input, { services, principal }) => ratings(services).cancel(input.id, principal.name),
});
