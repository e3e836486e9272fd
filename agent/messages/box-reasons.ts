// Device and queue reasons this part needs before the device-conditions table (`device-reasons.ts`,
// DEVICE_REASONS) arrives; by `reasonCode`, e.g. `reasonCode: "paper-out"` beside `reason`. At merge the
// catalog composes both, DEVICE_REASONS winning where a code is in both.
import type { Bilingual } from './locale.js';

export const BOX_REASONS = {
  offline: { en: 'the device is offline', 'zh-CN': '设备已离线' },
  'paper-out': { en: 'the printer is out of paper', 'zh-CN': '打印机缺纸' },
  'cover-open': { en: 'the cover is open', 'zh-CN': '机盖未关好' },
  jam: { en: 'paper jam', 'zh-CN': '打印机卡纸' },
  'no-card': { en: 'put the ID card on the reader', 'zh-CN': '请将身份证放在读卡器上' },
} as const satisfies Record<string, Bilingual>;
