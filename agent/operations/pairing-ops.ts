// The admin side of pairing (issue 15): pending requests, approve or deny by code. The requesting page's side
// (request, poll) is not an operation: it has no token (agent/http/pairing-routes.ts).
import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';
import { PairableScopes, PairingCodeSchema, PairingViewSchema } from './pairing-schemas.js';

export const listPairings = defineOperation({
  name: 'pairings.list',
  summary: 'Pending pairing requests, oldest first: what a clerk may approve by code.',
  scope: 'admin',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({ pairings: Type.Array(PairingViewSchema) }),
  http: { method: 'GET', path: '/v1/pairings' },
  handler: (_input, { services }) => ({ pairings: services.pairings.pending() }),
});

export const approvePairing = defineOperation({
  name: 'pairings.approve',
  summary:
    "Approves a pending pairing request by its code; `scopes` may narrow what was asked, never widen it. The page's next poll receives its token, bound to its Origin.",
  scope: 'admin',
  risk: 'config',
  input: Type.Object(
    {
      code: PairingCodeSchema,
      scopes: Type.Optional({ ...PairableScopes, description: 'Grant only these (default: all asked for)' }),
    },
    { additionalProperties: false },
  ),
  output: PairingViewSchema,
  http: { method: 'POST', path: '/v1/pairings/:code/approve' },
  handler: (input, { services, principal, via }) =>
    services.pairings.approve(input.code, { scopes: input.scopes, by: `${principal.name} (${via})` }),
});

export const denyPairing = defineOperation({
  name: 'pairings.deny',
  summary: 'Denies a pending pairing request by its code.',
  scope: 'admin',
  risk: 'config',
  input: Type.Object({ code: PairingCodeSchema }, { additionalProperties: false }),
  output: PairingViewSchema,
  http: { method: 'POST', path: '/v1/pairings/:code/deny' },
  handler: (input, { services, principal, via }) =>
    services.pairings.deny(input.code, `${principal.name} (${via})`),
});
