// Why a device is not doing its work, as a clerk reads it: one stable code per reason (in the API, events and
// logs) with its text in both languages, composed into the message catalog (`catalog.ts`).
import { DEVICE_CONDITIONS, type DeviceConditionCode } from '../../drivers/device.js';
import type { Bilingual } from './locale.js';

/** Reasons that come from supervision (the device cannot be reached), not from the device's own report. */
export const SUPERVISION_REASONS = [
  'starting',
  'unplugged',
  'not-answering',
  'connection-lost',
  'unusable-config',
  'stopped',
] as const;
export type SupervisionReasonCode = (typeof SUPERVISION_REASONS)[number];

export type DeviceReasonCode = SupervisionReasonCode | DeviceConditionCode;
export const DEVICE_REASON_CODES: readonly DeviceReasonCode[] = [
  ...SUPERVISION_REASONS,
  ...DEVICE_CONDITIONS,
];

export const DEVICE_REASONS: Record<DeviceReasonCode, Bilingual> = {
  starting: { en: 'The device is starting', 'zh-CN': '设备正在启动' },
  unplugged: { en: 'The device is not connected', 'zh-CN': '设备未连接' },
  'not-answering': { en: 'The device is not responding', 'zh-CN': '设备无响应' },
  'connection-lost': { en: 'The connection to the device was lost', 'zh-CN': '与设备的连接已断开' },
  'unusable-config': {
    en: 'The device cannot be used with its current settings',
    'zh-CN': '设备配置有误，无法使用',
  },
  stopped: { en: 'The device has been stopped', 'zh-CN': '设备已停用' },
  'paper-out': { en: 'The printer is out of paper', 'zh-CN': '打印机缺纸' },
  'cover-open': { en: 'The printer cover is open', 'zh-CN': '打印机盖板未关闭' },
  'paper-jam': { en: 'Paper is jammed in the printer', 'zh-CN': '打印机卡纸' },
  'ribbon-fault': { en: 'The printer ribbon is jammed or missing', 'zh-CN': '打印机色带故障' },
  'head-fault': { en: 'The print head has a fault', 'zh-CN': '打印头故障' },
  'printer-offline': {
    en: 'The printer is switched offline',
    'zh-CN': '打印机处于脱机状态，请按联机键',
  },
  stalled: {
    en: 'The printer is not taking data (out of paper, cover open or offline?)',
    'zh-CN': '打印机未接收数据，请检查纸张、盖板和联机状态',
  },
};

/** The English text of a reason code (the API's `reason` until texts follow the request's locale). */
export function reasonText(code: DeviceReasonCode): string {
  return DEVICE_REASONS[code].en;
}
