import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';

export const listAudit = defineOperation({
  name: 'audit.list',
  summary: 'Audit entries after a sequence number, oldest first.',
  scope: 'admin',
  input: Type.Object(
    {
      after: Type.Integer({ minimum: 0, default: 0 }),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
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
  handler: (input, { services }) => ({
    entries: services.store.audit.list(input.after, input.limit),
  }),
});
