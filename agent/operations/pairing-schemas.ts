// Schemas of pairing (issue 15), shared by the admin operations and the public pairing routes.
import { Type } from '@sinclair/typebox';
import { SCOPES, StringEnum } from '../../config/schema.js';
import { PAIRING_STATES } from '../store/pairings.js';

/** Every scope but admin: a page can never ask for admin, and an approval cannot grant it. */
export const PAIRABLE_SCOPES = SCOPES.filter((s) => s !== 'admin');

export const PairableScopes = Type.Array(
  StringEnum(PAIRABLE_SCOPES, { description: 'A scope a page may ask for (never admin)' }),
  { minItems: 1, maxItems: PAIRABLE_SCOPES.length, uniqueItems: true },
);

export const PairingCodeSchema = Type.String({
  minLength: 8,
  maxLength: 16,
  description: 'The code the page shows, XXXX-XXXX (case and the dash do not matter)',
});

export const PairingRequestBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'What the page is, for the clerk who approves (e.g. 综合窗口 3)',
    }),
    scopes: PairableScopes,
  },
  { additionalProperties: false },
);

export const PairingTicketSchema = Type.Object({
  id: Type.String({ description: "The page's secret poll id (128 random bits, base64url): keep it" }),
  code: Type.String({ description: 'Show this to the clerk: XXXX-XXXX' }),
  expiresAt: Type.String({ format: 'date-time' }),
  scopes: Type.Array(StringEnum(SCOPES)),
  name: Type.String(),
});

export const PairingStatusSchema = Type.Object({
  id: Type.String(),
  state: StringEnum(PAIRING_STATES),
  expiresAt: Type.String({
    format: 'date-time',
    description: 'Pending: when the request lapses; approved: until when the token can be collected',
  }),
  scopes: Type.Optional(
    Type.Array(StringEnum(SCOPES), { description: 'Asked for while pending; granted once approved' }),
  ),
  token: Type.Optional(
    Type.String({
      description:
        'The bearer token, bound to this Origin and the granted scopes: only in the first answer after approval',
    }),
  ),
});

export const PairingViewSchema = Type.Object({
  id: Type.String({ description: "The pairing's public reference (not the page's poll id)" }),
  code: Type.String(),
  name: Type.String(),
  origin: Type.String(),
  state: StringEnum(PAIRING_STATES),
  scopes: Type.Array(StringEnum(SCOPES), { description: 'Asked for' }),
  approvedScopes: Type.Union([Type.Array(StringEnum(SCOPES)), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  tokenId: Type.Union([Type.String(), Type.Null()]),
});
