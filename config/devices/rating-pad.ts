import { Type } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.js';
import { deviceEntry } from './device-entry.js';

const Rating = Type.Integer({ minimum: 1, maximum: 5, description: '5 = 非常满意 … 1 = 非常不满意' });

/** Options of a service-rating pad (`kind: rating-pad`, 好差评评价器); every key has a default. */
export const RatingPadOptionsSchema = Type.Object(
  {
    keys: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 16 }), Rating, {
        description:
          "The pad's key → rating. Default: keys 1..5 (and keypad 1..5 on HID keyboards) give ratings 1..5",
      }),
    ),
    defaultTimeoutMs: Type.Integer({
      default: 30_000,
      minimum: 1000,
      maximum: 600_000,
      description: 'How long a rating request waits for a key when it names no timeoutMs',
    }),
    commandTimeoutMs: Type.Integer({
      default: 1000,
      minimum: 50,
      maximum: 30_000,
      description: 'Serial pads: how long the pad may take to answer a command',
    }),
    confirmBeepMs: Type.Integer({
      default: 100,
      minimum: 0,
      maximum: 2000,
      description: 'A beep when a rating is taken, on pads with a beeper; 0 for none',
    }),
    hidFormat: StringEnum(['boot-keyboard', 'vendor'] as const, {
      default: 'boot-keyboard',
      description: 'HID pads: boot-keyboard input reports (most pads), or a vendor report with the key code',
    }),
    hidReportId: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 255,
        description: 'HID pads: the report ID, where the pad numbers them',
      }),
    ),
    hidKeyOffset: Type.Integer({
      default: 1,
      minimum: 1,
      maximum: 63,
      description: 'HID vendor reports: the byte holding the key code',
    }),
    simulatedAutoPress: Type.Optional(
      Type.Object(
        {
          keys: Type.Array(Type.String({ minLength: 1, maxLength: 16 }), { minItems: 1, maxItems: 100 }),
          delayMs: Type.Integer({ default: 2000, minimum: 0, maximum: 600_000 }),
        },
        {
          additionalProperties: false,
          description:
            'Transport simulated: the keys a simulated resident presses, in turn, after each request',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A device entry of kind `rating-pad`: the service-rating pad at the counter. */
export const RatingPadDeviceSchema = deviceEntry('rating-pad', 'ratingPad', RatingPadOptionsSchema);
