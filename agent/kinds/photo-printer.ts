// The photo/certificate printer kind: an IPP printer or CUPS queue, or an in-process printer keeping what it
// prints.
import type { DeviceConfigOf } from '../../config/schema.js';
import { IppPhotoPrinter } from '../../drivers/photo-printer/ipp-printer.js';
import type { PhotoPrinterDriver } from '../../drivers/photo-printer/photo-printer.js';
import { SimulatedPhotoPrinter } from '../../drivers/photo-printer/simulator.js';
import {
  cancelCertificate,
  certificateDocument,
  getCertificate,
  listCertificates,
  resealCertificate,
  resolveCertificate,
  submitCertificate,
} from '../operations/certificate-ops.js';
import type { DeviceKindUnit } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    'photo-printer': PhotoPrinterDriver;
  }
}

function photoPrinter(device: DeviceConfigOf<'photo-printer'>): PhotoPrinterDriver {
  const t = device.transport;
  if (t.type === 'simulated') return new SimulatedPhotoPrinter(t.outputDir);
  if (t.type !== 'ipp') {
    throw new UnsupportedDeviceError(`a photo-printer over ${t.type} is not supported (use ipp)`);
  }
  const media = device.photoPrinter.media;
  return new IppPhotoPrinter({ url: t.url, timeoutMs: t.timeoutMs, ...(media ? { media } : {}) });
}

export const photoPrinterKind: DeviceKindUnit<'photo-printer'> = {
  kind: 'photo-printer',
  label: { 'zh-CN': '照片/证卡打印机', en: 'photo/certificate printer' },
  operations: [
    submitCertificate,
    listCertificates,
    getCertificate,
    certificateDocument,
    cancelCertificate,
    resolveCertificate,
    resealCertificate,
  ],
  createDriver: photoPrinter,
  wizard: { transportHint: '"ipp://HOST:631/printers/QUEUE" or empty for none' },
};
