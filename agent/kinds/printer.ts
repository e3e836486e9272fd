// The dot-matrix printer kind: the in-process simulator, or ESC/P over serial, raw TCP, usblp or libusb.
import type { DeviceConfigOf } from '../../config/schema.js';
import { EscpLinkPrinter } from '../../drivers/printer/link-printer.js';
import type { PrinterDriver } from '../../drivers/printer/printer-driver.js';
import { SimulatedDotMatrixPrinter } from '../../drivers/printer/simulator.js';
import { openTcp } from '../../drivers/transport/tcp.js';
import { openUsbLp, readUsbLpDeviceId } from '../../drivers/transport/usblp.js';
import { openUsbPrinter } from '../../drivers/transport/usb-printer.js';
import { printerSetup } from '../printing/printer-setup.js';
import {
  cancelPrint,
  getPrint,
  listPrints,
  previewPrint,
  printerQueue,
  resolvePrint,
  submitPrint,
} from '../operations/print-ops.js';
import type { DeviceKindUnit } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    printer: PrinterDriver;
  }
}

// serialport takes ~300 ms to load: only a box with a serial printer pays for it, when it opens the port.
const openSerial = async (
  ...args: Parameters<typeof import('../../drivers/transport/serial.js').openSerial>
) => (await import('../../drivers/transport/serial.js')).openSerial(...args);

function printerDriver(device: DeviceConfigOf<'printer'>): PrinterDriver {
  const setup = printerSetup(device);
  const t = device.transport;
  const stallMs = device.printer.stallMs;
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
    case 'hid':
      throw new UnsupportedDeviceError('a dot-matrix printer over hid is not supported');
    case 'ipp':
      // IPP printers take page images, not ESC/P: they are photo printers here.
      throw new UnsupportedDeviceError(
        'a dot-matrix printer over ipp is not supported (ipp is for kind photo-printer)',
      );
  }
}

export const printerKind: DeviceKindUnit<'printer'> = {
  kind: 'printer',
  label: { 'zh-CN': '针式打印机', en: 'dot-matrix printer' },
  operations: [submitPrint, previewPrint, listPrints, getPrint, cancelPrint, resolvePrint, printerQueue],
  createDriver: printerDriver,
  // An Epson LQ-6xxK (the counters' 24-pin printer) names itself in its IEEE 1284 Device ID.
  scan: (d) => {
    const model = /(?:MDL|MODEL):([^;]+)/.exec(d.ieee1284 ?? '')?.[1];
    return d.class === 'usb-printer' && /LQ-?6[0-9]{2}K/i.test(model ?? '')
      ? { profile: 'epson-lq-24pin' }
      : undefined;
  },
  wizard: {
    transportHint: '"serial:/dev/ttyUSB0", "tcp:HOST:PORT" or empty for none',
    // Measured later from the calibration page (`boxagent devices test printer-1`); known offsets go in now.
    async askOptions(ask) {
      const xMm = Number(await ask('  printer calibration, x offset in mm', '0'));
      const yMm = Number(await ask('  printer calibration, y offset in mm', '0'));
      if (Number.isNaN(xMm) || Number.isNaN(yMm)) throw new Error('calibration offsets are numbers of mm');
      return xMm !== 0 || yMm !== 0 ? { printer: { calibration: { xMm, yMm } } } : {};
    },
  },
};
