import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';
import { maskIdNumber } from '../../drivers/idcard/card-text.js';
import { hasScope } from '../auth/token-service.js';
import { Problem } from '../problems/problem.js';
import { t } from '../messages/text.js';
import type { Services } from '../services.js';

const Coded = Type.Object({ code: Type.String(), name: Type.Union([Type.String(), Type.Null()]) });

export const IdCardSchema = Type.Object({
  device: Type.String(),
  name: Type.String({ description: 'As decoded; rare characters may be Private Use Area code points' }),
  nameHasPrivateUseChars: Type.Boolean(),
  sex: Coded,
  nation: Coded,
  birthDate: Type.String({ description: 'YYYY-MM-DD' }),
  address: Type.String(),
  idNumber: Type.String({
    description: 'In full for a token with scope idcard (or admin); masked (first 3 and last 4) for others',
  }),
  idNumberCheck: Type.Object({
    valid: Type.Boolean({ description: 'The GB 11643 mod 11-2 check character matches' }),
    expected: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  authority: Type.String(),
  validFrom: Type.String(),
  validTo: Type.String({ description: 'YYYY-MM-DD or 长期' }),
  photo: Type.Object({
    format: Type.Literal('wlt'),
    data: Type.String({ description: 'The WLT-compressed photo, base64' }),
    bytes: Type.Integer(),
    jpeg: Type.Union([Type.String(), Type.Null()], {
      description: "The photo decoded by the reader vendor's library (idcard.decoder), JPEG base64",
    }),
    jpegBytes: Type.Union([Type.Integer(), Type.Null()], { description: 'Size of the JPEG' }),
    width: Type.Union([Type.Integer(), Type.Null()], { description: '102 when decoded' }),
    height: Type.Union([Type.Integer(), Type.Null()], { description: '126 when decoded' }),
    jpegUnavailable: Type.Union([Type.String(), Type.Null()], {
      description: 'Why there is no JPEG (no decoder configured, the decoder crashed, timed out, refused)',
    }),
  }),
  readAt: Type.String({ format: 'date-time' }),
});

/** Per daemon: the read each caller was last handed, per reader ("device\0actor" → readAt). */
const handedOut = new WeakMap<Services, Map<string, string>>();

/**
 * Who was handed which resident's card, and when: once per card read and caller (a counter page polls the
 * reader), the masked number only (the audit log is no copy of the card).
 */
function auditCardHandedOut(
  services: Services,
  actor: string,
  device: string,
  readAt: string,
  idNumber: string,
): void {
  let last = handedOut.get(services);
  if (!last) handedOut.set(services, (last = new Map<string, string>()));
  const key = `${device}\0${actor}`;
  if (last.get(key) === readAt) return;
  last.set(key, readAt);
  services.store.audit.append({
    actor,
    action: 'idcard.read',
    target: device,
    detail: { idNumber: maskIdNumber(idNumber), readAt },
  });
}

export const getIdCard = defineOperation({
  name: 'idcard.card',
  summary: 'The last card the ID card reader read, if within its freshness window (idcard.freshnessMs).',
  scope: 'read',
  risk: 'personal-data',
  problems: ['no-card'],
  input: Type.Object(
    { device: Type.String({ minLength: 1, maxLength: 64 }) },
    { additionalProperties: false },
  ),
  output: IdCardSchema,
  http: { method: 'GET', path: '/v1/idcard/:device/card' },
  handler(input, { services, principal }) {
    services.devices.require(input.device, 'idcard', ['device']);
    const last = services.idcards.lastCard(input.device);
    if (!last.found) {
      const window = services.idcards.freshnessMs(input.device) ?? 0;
      throw new Problem(
        'no-card',
        t`no card was read on "${input.device}" in the last ${Math.round(window / 1000)} s`,
      );
    }
    // The full number is the one field a monitoring `read` token has no use for (as for `idcard.read`).
    const { idNumber } = last.card;
    auditCardHandedOut(services, principal.name, input.device, last.card.readAt, idNumber);
    return {
      device: input.device,
      ...last.card,
      idNumber: hasScope(principal, 'idcard') ? idNumber : maskIdNumber(idNumber),
    };
  },
});
