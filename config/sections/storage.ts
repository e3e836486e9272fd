// Where state lives and how much of the event log is kept.
import { Type } from '@sinclair/typebox';

export const StorageSection = Type.Object(
  {
    dir: Type.String({ default: '/var/lib/boxagent', minLength: 1, description: 'State directory' }),
    owner: Type.String({
      default: 'boxagent',
      pattern: '^[a-z_][a-z0-9_-]{0,31}$',
      description:
        'The system user the service runs as (User= of boxagent.service): CLI commands run as root hand what they create in the state dir to it, write config files root:<its group> 0640, and doctor checks access as it',
    }),
    maxEvents: Type.Integer({
      default: 100_000,
      minimum: 100,
      description: 'Events kept in the event log (SSE resume, fleet outbox); the oldest go first',
    }),
  },
  { additionalProperties: false, default: {} },
);
