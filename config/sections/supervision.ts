// How devices are probed, and reopened with backoff when they fail.
import { Type } from '@sinclair/typebox';

export const SupervisionSection = Type.Object(
  {
    probeIntervalMs: Type.Integer({
      default: 1000,
      minimum: 50,
      description:
        'How often a ready device is probed (and its conditions read); after a failed probe the next come every 250 ms',
    }),
    failuresBeforeError: Type.Integer({
      default: 3,
      minimum: 1,
      description: 'Consecutive failed probes before error',
    }),
    backoffInitialMs: Type.Integer({ default: 1000, minimum: 10 }),
    backoffMaxMs: Type.Integer({ default: 60_000, minimum: 10 }),
  },
  { additionalProperties: false, default: {} },
);
