// Device and queue reasons by `reasonCode` (`reasonCode: "paper-out"` beside `reason`), until the
// device-conditions table (`device-reasons.ts`, DEVICE_REASONS) is composed into the catalog at merge; it
// wins on a shared code, so the texts here are the same as there.
import type { Bilingual } from './locale.js';

export const BOX_REASONS = {
  'paper-out': { en: 'The printer is out of paper', 'zh-CN': '打印机缺纸' },
} as const satisfies Record<string, Bilingual>;
