// The service-rating pad kind (政务服务"好差评"评价器): a USB HID keypad through hidraw, a serial pad speaking the
// `line` profile, or the simulated pad (the serial driver on an in-process pad simulator).
import type { DeviceConfigOf } from '../../config/schema.js';
import { DEFAULT_KEYPAD_PROFILE, type HidKeypadFormat } from '../../drivers/rating-pad/hid-keypad-codec.js';
import { hidRatingPad } from '../../drivers/rating-pad/hid-pad.js';
import type { RatingPad } from '../../drivers/rating-pad/rating-pad.js';
import type { Rating } from '../../drivers/rating-pad/ratings.js';
import { serialRatingPad } from '../../drivers/rating-pad/serial-pad.js';
import { SimulatedRatingPad } from '../../drivers/rating-pad/simulated-pad.js';
import { openSerial } from '../../drivers/transport/serial.js';
import { cancelRating, getRating, listRatings, requestRating } from '../operations/rating-ops.js';
import type { DeviceKindUnit } from './kind.js';
import { UnsupportedDeviceError } from './unsupported.js';

declare module '../devices/kind-drivers.js' {
  interface KindDrivers {
    'rating-pad': RatingPad;
  }
}

function ratingPad(device: DeviceConfigOf<'rating-pad'>): RatingPad {
  const o = device.ratingPad;
  // Checked 1..5 by the config schema, and again by each pad driver when it is built.
  const keys = o.keys as Record<string, Rating> | undefined;
  const t = device.transport;
  switch (t.type) {
    case 'simulated':
      return new SimulatedRatingPad({
        ...(keys ? { keys } : {}),
        ...(o.simulatedAutoPress ? { autoPress: o.simulatedAutoPress } : {}),
      });
    case 'serial': {
      const { path, baudRate, dataBits, parity, stopBits, rtscts } = t;
      return serialRatingPad({
        openLink: () => openSerial({ path, baudRate, dataBits, parity, stopBits, rtscts }),
        commandTimeoutMs: o.commandTimeoutMs,
        confirmBeepMs: o.confirmBeepMs,
        ...(keys ? { keys } : {}),
      });
    }
    case 'hid': {
      const format: HidKeypadFormat =
        o.hidFormat === 'vendor'
          ? { type: 'vendor', reportId: o.hidReportId ?? 0, keyOffset: o.hidKeyOffset }
          : { type: 'boot-keyboard', ...(o.hidReportId === undefined ? {} : { reportId: o.hidReportId }) };
      const keypad = { format, keys: keys ?? DEFAULT_KEYPAD_PROFILE.keys };
      if (t.path !== undefined) return hidRatingPad({ device: { path: t.path }, keypad });
      if (t.vendorId === undefined || t.productId === undefined) {
        throw new UnsupportedDeviceError('a hid rating pad needs transport.path, or vendorId and productId');
      }
      return hidRatingPad({
        device: {
          vendorId: t.vendorId,
          productId: t.productId,
          ...(t.serialNumber === undefined ? {} : { serialNumber: t.serialNumber }),
          ...(t.interface === undefined ? {} : { interface: t.interface }),
        },
        keypad,
      });
    }
    default:
      throw new UnsupportedDeviceError(`a rating pad over ${t.type} is not supported (use hid or serial)`);
  }
}

export const ratingPadKind: DeviceKindUnit<'rating-pad'> = {
  kind: 'rating-pad',
  label: { 'zh-CN': '好差评评价器', en: 'service-rating pad' },
  operations: [requestRating, getRating, listRatings, cancelRating],
  createDriver: ratingPad,
  deviceNode: (d) =>
    d.transport.type === 'hid' && d.transport.path !== undefined
      ? { path: d.transport.path, group: 'plugdev' }
      : undefined,
  wizard: {
    transportHint: '"hid:VID:PID" (e.g. hid:0x1a86:0xe026), "serial:/dev/ttyUSB0" or empty for none',
  },
};
