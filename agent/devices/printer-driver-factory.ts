// The printer entry of the driver factory: the in-process simulator, or ESC/P over serial or raw TCP.
import type { DeviceConfig, PrinterOptions } from '../../config/schema.js';
import type { PrinterSetup } from '../../drivers/printer/forms.js';
import { EscpLinkPrinter } from '../../drivers/printer/link-printer.js';
import type { PrinterDriver } from '../../drivers/printer/printer-driver.js';
import { LQ_630K } from '../../drivers/printer/profile.js';
import { SimulatedDotMatrixPrinter } from '../../drivers/printer/simulator.js';
import { UnsupportedDeviceError } from './unsupported.js';
import { openTcp } from '../../drivers/transport/tcp.js';
import { openUsbLp, readUsbLpDeviceId } from '../../drivers/transport/usblp.js';
import { openUsbPrinter } from '../../drivers/transport/usb-printer.js';

// serialport takes ~300 ms to load: only a box with a serial printer pays for it, when it opens the port.
const openSerial = async (
  ...args: Parameters<typeof import('../../drivers/transport/serial.js').openSerial>
) => (await import('../../drivers/transport/serial.js')).openSerial(...args);

/** The printer's setup from its config (defaults where the config says nothing). */
export function printerSetup(device: DeviceConfig): PrinterSetup {
  const o: Partial<PrinterOptions> = device.printer ?? {};
  return {
    profile: { ...LQ_630K, romCharset: o.romCharset ?? 'gbk', escp2: o.escp2 ?? false },
    calibration: { xMm: o.calibration?.xMm ?? 0, yMm: o.calibration?.yMm ?? 0 },
    fallbackFonts: o.fallbackFonts ?? [],
  };
}

export function printerDriver(device: DeviceConfig): PrinterDriver {
  const setup = printerSetup(device);
  const t = device.transport;
  const stallMs = device.printer?.stallMs ?? 5000;
  switch (t.type) {
    case 'simulated':
      return new SimulatedDotMatrixPrinter({
        setup,
        ...(t.bytesPerSecond ? { bytesPerSecond: t.bytesPerSecond } : {}),
        ...(t.outputDir ? { outputDir: t.outputDir } : {}),
      });
    case 'serial':
      return new EscpLinkPrinter({ open: () => openSerial(t), describe: `serial ${t.path}`, setup, stallMs });
    case 'tcp':
      return new EscpLinkPrinter({
        open: () => openTcp(t),
        describe: `tcp ${t.host}:${t.port}`,
        setup,
        stallMs,
      });
    case 'usblp': {
      const opts = { path: t.path, sysfsRoot: t.sysfsRoot ?? '/sys' };
      return new EscpLinkPrinter({
        open: () => openUsbLp(opts),
        identify: () => readUsbLpDeviceId(opts),
        describe: `usblp ${t.path}`,
        setup,
        stallMs,
      });
    }
    case 'usb':
      return new EscpLinkPrinter({
        open: () => openUsbPrinter({ vendorId: t.vendorId, productId: t.productId }),
        describe: `usb ${t.vendorId.toString(16).padStart(4, '0')}:${t.productId.toString(16).padStart(4, '0')}`,
        setup,
        stallMs,
      });
    case 'video':
      throw new UnsupportedDeviceError('a printer over video is not a printer');
    case 'ipp':
      // IPP printers take page images, not ESC/P: they are photo printers here.
      throw new UnsupportedDeviceError(
        'a dot-matrix printer over ipp is not supported (ipp is for kind photo-printer)',
      );
  }
}
