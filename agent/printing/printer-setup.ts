// A printer's setup (ROM charset, ESC/P2, calibration, fallback fonts) from its config entry.
import type { DeviceConfigOf } from '../../config/schema.js';
import type { PrinterSetup } from '../../drivers/printer/forms.js';
import { LQ_630K } from '../../drivers/printer/profile.js';

/** The printer's setup from its config (options defaulted at load). */
export function printerSetup(device: DeviceConfigOf<'printer'>): PrinterSetup {
  const o = device.printer;
  return {
    profile: { ...LQ_630K, romCharset: o.romCharset, escp2: o.escp2 },
    calibration: { xMm: o.calibration.xMm, yMm: o.calibration.yMm },
    fallbackFonts: o.fallbackFonts,
  };
}
