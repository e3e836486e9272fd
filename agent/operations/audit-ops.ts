import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';

export const listAudit = defineOperation({
  name: 'audit.list',
  summary: 'Audit entries after a sequence number and within a time range, oldest first.',
  scope: 'admin',
  risk: 'personal-data',
  input: Type.Object(
    {
      after: Type.Integer({ minimum: 0, default: 0 }),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time' })),
      to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or before this time' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    entries: Type.Array(
      Type.Object({
        seq: Type.Integer(),
        at: Type.String({ format: 'date-time' }),
        actor: Type.String(),
        action: Type.String(),
        target: Type.Union([Type.String(), Type.Null()]),
        detail: Type.Record(Type.String(), Type.Unknown()),
        hash: Type.String(),
      }),
    ),
  }),
  http: { method: 'GET', path: '/v1/audit' },
  handler(input, { services }) {
    if (input.from && input.to && Date.parse(input.from) > Date.parse(input.to)) {
      throw new Problem('invalid-request', t`\`from\` is after \`to\``, ['from']);
    }
    // Entries are stored as UTC ISO text; a bound with another offset is normalised so text order is time order.
    const utc = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      entries: services.store.audit.list(input.after, input.limit, {
        from: utc(input.from),
        to: utc(input.to),
      }),
    };
  },
});
