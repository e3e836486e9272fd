import { Type, type Static } from '@sinclair/typebox';
import { deviceEntry } from './device-entry.js';

/** Options of a steel-seal machine (`kind: seal`); every key has a default. */
export const SealOptionsSchema = Type.Object(
  {
    profile: Type.String({
      default: 'default',
      minLength: 1,
      description:
        'Seal protocol profile: a name in config/seal-profiles/ (without .yaml) or a path to a profile file',
    }),
    confirmWindowMs: Type.Integer({
      default: 120_000,
      minimum: 5_000,
      maximum: 3_600_000,
      description: 'How long a seal job waits for its confirmation before it expires',
    }),
    simulatedStampDelayMs: Type.Integer({
      default: 300,
      minimum: 0,
      maximum: 600_000,
      description: 'With transport `simulated`: how long the simulated press takes',
    }),
  },
  { additionalProperties: false },
);
export type SealOptions = Static<typeof SealOptionsSchema>;

/** A device entry of kind `seal`: a steel-seal (embossing) machine. */
export const SealDeviceSchema = deviceEntry('seal', 'seal', SealOptionsSchema);
