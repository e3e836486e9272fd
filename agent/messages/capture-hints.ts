// What the counter UI tells the resident when a face capture is missing something, by the `missing` code
// of agent/face/capture-judge.ts. Spoken to the resident, so short and polite.
import type { Bilingual } from './locale.js';

export const CAPTURE_HINT_TEXTS = {
  'no-face': { en: 'step in front of the camera', 'zh-CN': '请站到摄像头前' },
  'several-faces': { en: 'one person at a time, please', 'zh-CN': '请一次只站一个人' },
  'too-far': { en: 'move closer', 'zh-CN': '请靠近一些' },
  'not-frontal': { en: 'look at the camera', 'zh-CN': '请正对摄像头' },
  blurred: { en: 'hold still', 'zh-CN': '请保持不动' },
  'too-dark': { en: 'more light on the face', 'zh-CN': '脸部光线太暗，请增加照明' },
  'too-bright': { en: 'less light on the face', 'zh-CN': '脸部光线太强，请减弱照明' },
  'not-live': { en: 'look at the camera', 'zh-CN': '请正对摄像头' },
} as const satisfies Record<string, Bilingual>;
