// Tokens as the admin sees them (issue 15): list (never a secret) and revoke. Creating one stays with the CLI
// on the box (`boxagent token create`) or pairing.
import { Type } from '@sinclair/typebox';
import { t } from '../messages/text.js';
import { SCOPES, StringEnum } from '../../config/schema.js';
import { Problem } from '../problems/problem.js';
import { defineOperation } from './operation.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const TokenSummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(StringEnum(SCOPES)),
  origin: Nullable(Type.String({ description: 'The browser Origin it is bound to; null: not bound' })),
  state: StringEnum(['active', 'revoked', 'expired']),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  revokedAt: Nullable(Type.String({ format: 'date-time' })),
  lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const listTokens = defineOperation({
  name: 'tokens.list',
  summary: 'Every token (never its secret), with the Origin a paired one is bound to.',
  scope: 'admin',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({ tokens: Type.Array(TokenSummarySchema) }),
  http: { method: 'GET', path: '/v1/tokens' },
  handler: (_input, { services }) => ({
    tokens: services.tokens.list().map((t) => ({
      ...t,
      state: t.revokedAt
        ? ('revoked' as const)
        : t.expiresAt && Date.parse(t.expiresAt) <= Date.now()
          ? ('expired' as const)
          : ('active' as const),
    })),
  }),
});

export const revokeToken = defineOperation({
  name: 'tokens.revoke',
  summary: 'Revokes a token by id: it is refused from the next request on.',
  scope: 'admin',
  risk: 'config',
  input: Type.Object(
    { id: Type.String({ pattern: '^[a-z0-9]{12}$', description: 'The token id (tokens.list)' }) },
    { additionalProperties: false },
  ),
  output: Type.Object({ id: Type.String(), revoked: Type.Literal(true) }),
  http: { method: 'DELETE', path: '/v1/tokens/:id' },
  handler(input, { services, principal, via }) {
    if (!services.tokens.list().some((t) => t.id === input.id && t.revokedAt === null)) {
      throw new Problem('not-found', t`no active token with id ${input.id}`, ['id']);
    }
    services.tokens.revoke(input.id, `${principal.name} (${via})`);
    return { id: input.id, revoked: true as const };
  },
});
