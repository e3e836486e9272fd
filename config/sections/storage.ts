// Where state lives and how much of the event log is kept.
import { Type } from '@sinclair/typebox';

export const StorageSection = Type.Object(
  {
    dir: Type.String({ default: '/var/lib/boxagent', minLength: 1, description: 'State directory' }),
    maxEvents: Type.Integer({
      default: 100_000,
      minimum: 100,
      description: 'Events kept in the event log (SSE resume, fleet outbox); the oldest go first',
    }),
  },
  { additionalProperties: false, default: {} },
);
