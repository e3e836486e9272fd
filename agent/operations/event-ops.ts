// Replaying the event log by `seq`: how a fleet collector fetches the events it missed (a gap in `seq` on the
// events topic, or telemetry's `lastEventSeq` ahead of the last one it has). Offered over MQTT only: counter
// software on HTTP resumes its SSE stream with Last-Event-ID instead.
import { Type } from '@sinclair/typebox';
import { hasScope } from '../auth/token-service.js';
import { eventScope } from '../events/catalog.js';
import { defineOperation } from './operation.js';

export const listEvents = defineOperation({
  name: 'events.list',
  summary:
    'Kept events after a seq, oldest first, with the newest seq of the log. Over MQTT every kept event (what the events topic carries).',
  // The fleet role reads every kept event, as it does on the events topic (the broker's ACL is the gate
  // there too); a gap fill that left out seal or admin events would leave holes no collector could explain.
  scope: 'read',
  risk: 'read',
  input: Type.Object(
    {
      after: Type.Integer({ minimum: 0, default: 0, description: 'Events with a larger seq' }),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    events: Type.Array(
      Type.Object({
        id: Type.String(),
        seq: Type.Integer(),
        type: Type.String(),
        createdAt: Type.String({ format: 'date-time' }),
        payload: Type.Unknown(),
      }),
    ),
    lastSeq: Type.Integer({
      description:
        'The newest seq in the log (0 when empty): ask again from the last returned seq while it is smaller',
    }),
  }),
  handler(input, { services, principal, via }) {
    const page = services.events.replay(input.after, input.limit);
    // Another adapter (none today) would serve a token: it gets the types its scopes receive, as on SSE.
    const events = via === 'mqtt' ? page : page.filter((e) => hasScope(principal, eventScope(e.type)));
    return {
      events: events.map((e) => ({
        id: e.id,
        seq: e.seq,
        type: e.type,
        createdAt: e.createdAt,
        payload: e.payload,
      })),
      lastSeq: services.events.lastSeq(),
    };
  },
});
