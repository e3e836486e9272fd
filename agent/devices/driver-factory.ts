// Maps a device's config (kind + transport) to its driver. Each kind has one entry; a kind's entry decides
// which transports it supports. A device whose driver cannot be built is reported in error, not fatal.
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import {
  IdCardOptionsSchema,
  PhotoPrinterOptionsSchema,
  SealOptionsSchema,
  type PhotoPrinterOptions,
  type SealOptions,
  type DeviceConfig,
  type DeviceKind,
  type IdCardOptions,
} from '../../config/schema.js';
import type { DeviceDriver } from '../../drivers/device.js';
import { printerDriver } from './printer-driver-factory.js';
import { cameraDriver } from './camera-driver-factory.js';
import { UnsupportedDeviceError } from './unsupported.js';
import { SealMachine } from '../../drivers/seal/machine.js';
import { resolveSealProfile } from '../../drivers/seal/profile.js';
import { SimulatedSealMachine } from '../../drivers/seal/simulated-machine.js';
import { SimulatedPhotoPrinter } from '../../drivers/photo-printer/simulator.js';
import { IppPhotoPrinter } from '../../drivers/photo-printer/ipp-printer.js';
import { IdCardReader } from '../../drivers/idcard/reader.js';
import { IdCardReaderSimulator, SAMPLE_CARDS } from '../../drivers/idcard/simulator.js';
import type { ByteLink } from '../../drivers/transport/byte-link.js';
import { memoryLinkPair } from '../../drivers/transport/memory-pair.js';
import { openSerial } from '../../drivers/transport/serial.js';

/** Builds a device's driver; `log` is the device manager's logger, for drivers that log (ffmpeg's stderr). */
export type DriverFactory = (device: DeviceConfig, log?: Logger) => DeviceDriver;

export { UnsupportedDeviceError };

/** A device's `idcard` options with the schema's defaults filled in (the key itself is optional). */
export function idCardOptions(device: DeviceConfig): IdCardOptions {
  return Value.Default(IdCardOptionsSchema, structuredClone(device.idcard ?? {})) as IdCardOptions;
}

/** Serial → the reader on the port; simulated → the same reader on an in-process reader simulator holding a card. */
const idCardReader: DriverFactory = (device) => {
  const t = device.transport;
  let openLink: () => Promise<ByteLink>;
  if (t.type === 'serial') {
    const { path, baudRate, dataBits, parity, stopBits, rtscts } = t;
    openLink = () => openSerial({ path, baudRate, dataBits, parity, stopBits, rtscts });
  } else if (t.type === 'simulated') {
    openLink = () => {
      const [driverEnd, simulatorEnd] = memoryLinkPair();
      const simulator = new IdCardReaderSimulator(simulatorEnd);
      simulator.start();
      simulator.present(SAMPLE_CARDS.zhang);
      return Promise.resolve(driverEnd);
    };
  } else {
    throw new UnsupportedDeviceError(`an idcard over ${t.type} is not supported yet`);
  }
  const opts = idCardOptions(device);
  return new IdCardReader({
    openLink,
    pollIntervalMs: opts.pollIntervalMs,
    commandTimeoutMs: opts.commandTimeoutMs,
    readTimeoutMs: opts.readTimeoutMs,
    decoderLibrary: opts.decoderLibrary,
    model: t.type === 'simulated' ? 'Simulated resident ID card reader (SAM)' : undefined,
  });
};

/** A device's `seal` options with the schema's defaults filled in (the key itself is optional). */
export function sealOptions(device: DeviceConfig): SealOptions {
  return Value.Default(SealOptionsSchema, structuredClone(device.seal ?? {})) as SealOptions;
}

/**
 * The profile-driven seal driver. Serial → on the port; simulated → the same driver on an in-process
 * simulator speaking the same profile. A profile that fails to load (schema, checksum vectors) throws here,
 * so the device shows in error with the profile's complaint.
 */
const sealMachine: DriverFactory = (device) => {
  const t = device.transport;
  const opts = sealOptions(device);
  const profile = resolveSealProfile(opts.profile);
  if (t.type === 'simulated') {
    return new SimulatedSealMachine(profile, { stampDelayMs: opts.simulatedStampDelayMs });
  }
  if (t.type !== 'serial') throw new UnsupportedDeviceError(`a seal over ${t.type} is not supported yet`);
  const { path, baudRate, dataBits, parity, stopBits, rtscts } = t;
  return new SealMachine({
    profile,
    openLink: () => openSerial({ path, baudRate, dataBits, parity, stopBits, rtscts }),
  });
};

/** A device's `photoPrinter` options with the schema's defaults filled in. */
export function photoPrinterOptions(device: DeviceConfig): PhotoPrinterOptions {
  return Value.Default(
    PhotoPrinterOptionsSchema,
    structuredClone(device.photoPrinter ?? {}),
  ) as PhotoPrinterOptions;
}

/** IPP → the printer or CUPS queue at the URL; simulated → an in-process printer keeping what it prints. */
const photoPrinter: DriverFactory = (device) => {
  const t = device.transport;
  if (t.type === 'simulated') return new SimulatedPhotoPrinter(t.outputDir);
  if (t.type !== 'ipp') {
    throw new UnsupportedDeviceError(`a photo-printer over ${t.type} is not supported (use ipp)`);
  }
  const media = photoPrinterOptions(device).media;
  return new IppPhotoPrinter({ url: t.url, timeoutMs: t.timeoutMs, ...(media ? { media } : {}) });
};

const FACTORIES: Record<DeviceKind, DriverFactory> = {
  printer: printerDriver,
  camera: cameraDriver,
  seal: sealMachine,
  'photo-printer': photoPrinter,
  idcard: idCardReader,
};

export const createDriver: DriverFactory = (device, log) => FACTORIES[device.kind](device, log);
