// The resident ID card reader kind: the reader over a serial port, or the same reader on an in-process reader
// simulator holding a card.
import type { DeviceConfigOf } from '../../config/schema.js';
import { IdCardReader } from '../../drivers/idcard/reader.js';
import { SimulatedIdCardReader } from '../../drivers/idcard/simulated-reader.js';
import { checkDecoderLibrary } from '../../drivers/idcard/wlt-decoder.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { getIdCard } from '../operations/idcard-ops.js';
import type { DeviceKindUnit, DoctorCheck } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    idcard: IdCardReader;
  }
}

function idCardReader(device: DeviceConfigOf<'idcard'>): IdCardReader {
  const t = device.transport;
  const opts = device.idcard;
  const common = {
    pollIntervalMs: opts.pollIntervalMs,
    commandTimeoutMs: opts.commandTimeoutMs,
    readTimeoutMs: opts.readTimeoutMs,
    decoder: opts.decoder,
  };
  if (t.type === 'simulated') {
    return new SimulatedIdCardReader({ ...common, model: 'Simulated resident ID card reader (SAM)' });
  }
  if (t.type !== 'serial') {
    throw new UnsupportedDeviceError(`an idcard over ${t.type} is not supported yet`);
  }
  const { path, baudRate, dataBits, parity, stopBits, rtscts } = t;
  return new IdCardReader({
    ...common,
    openLink: () => openSerial({ path, baudRate, dataBits, parity, stopBits, rtscts }),
  });
}

export const idCardKind: DeviceKindUnit<'idcard'> = {
  kind: 'idcard',
  label: { 'zh-CN': '身份证阅读器', en: 'ID card reader' },
  operations: [getIdCard],
  createDriver: idCardReader,
  doctor: (readers) =>
    readers.flatMap((r): DoctorCheck[] => {
      const decoder = r.idcard.decoder;
      if (!decoder) return [];
      const check = `photo decoder ${r.id}`;
      const reason = checkDecoderLibrary(decoder);
      return reason === null
        ? [
            {
              check,
              verdict: 'ok',
              detail: `${decoder.library} loads; ${decoder.symbol ?? decoder.abi} found`,
            },
          ]
        : [
            {
              check,
              verdict: 'fail',
              detail: reason,
              fix:
                `install the reader vendor's decoder for this machine (${process.arch}) at ${decoder.library}, ` +
                'or correct idcard.decoder (library, abi, symbol)',
            },
          ];
    }),
  wizard: { transportHint: '"serial:/dev/ttyUSB0" or empty for none' },
};
