// Alerts the box derives itself and sends to the fleet as kept events (alert.raised / alert.cleared), so an
// operator learns of a device stuck out of service or a backlog the box cannot send without polling it.
import { Type } from '@sinclair/typebox';

export const AlertsSection = Type.Object(
  {
    deviceNotReadySeconds: Type.Integer({
      default: 300,
      minimum: 1,
      description:
        'A device not ready (nor busy) for this long raises device-not-ready; it clears once the device is ready again',
    }),
    outboxDepth: Type.Integer({
      default: 1000,
      minimum: 1,
      description: 'More unsent fleet events than this raises outbox-growing',
    }),
    outboxAgeSeconds: Type.Integer({
      default: 900,
      minimum: 1,
      description: 'The oldest unsent fleet event older than this raises outbox-growing',
    }),
  },
  { additionalProperties: false, default: {} },
);
