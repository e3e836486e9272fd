import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.js';
import { deviceEntry } from './device-entry.js';

/** Settings of a dot-matrix printer (devices of kind `printer`), set at install. */
export const PrinterOptionsSchema = Type.Object(
  {
    calibration: Type.Object(
      {
        xMm: Type.Number({
          default: 0,
          minimum: -50,
          maximum: 50,
          description: 'Added to every x sent to this printer',
        }),
        yMm: Type.Number({
          default: 0,
          minimum: -50,
          maximum: 50,
          description: 'Added to every y sent to this printer',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    romCharset: StringEnum(['gbk', 'gb2312'] as const, {
      default: 'gbk',
      description: 'Two-byte characters in the printer ROM; others print as bit images',
    }),
    escp2: Type.Boolean({ default: false, description: 'The printer understands ESC/P2 commands' }),
    fallbackFonts: Type.Array(
      Type.Object(
        { file: Type.String({ minLength: 1 }), family: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { default: [], description: 'Fonts for characters neither the ROM nor Noto Sans Hans has' },
    ),
    stallMs: Type.Integer({
      default: 5000,
      minimum: 100,
      description: 'Serial/TCP: a write not drained for this long reports the printer stalled',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type PrinterOptions = Static<typeof PrinterOptionsSchema>;

/** A device entry of kind `printer`: a 24-pin dot-matrix printer. */
export const PrinterDeviceSchema = deviceEntry('printer', 'printer', PrinterOptionsSchema);
