// The title of every problem type, by its stable code (agent/problems/registry.ts), in every locale.
// Titles are what a clerk reads first: short, plain, and in the Chinese a county service hall uses.
import type { Bilingual } from './locale.js';

export const PROBLEM_TITLES = {
  'invalid-request': { en: 'The request is not valid', 'zh-CN': '请求内容有误' },
  'malformed-json': { en: 'The request body is not valid JSON', 'zh-CN': '请求内容不是有效的 JSON' },
  'malformed-multipart': {
    en: 'The request body is not valid multipart/form-data',
    'zh-CN': '请求内容不是有效的 multipart/form-data 表单',
  },
  unauthorized: { en: 'A valid bearer token is required', 'zh-CN': '需要有效的访问令牌' },
  'bad-signature': {
    en: 'The request signature is missing, invalid or replayed',
    'zh-CN': '请求签名缺失、无效或被重复使用',
  },
  forbidden: {
    en: 'The token lacks the scope this operation needs',
    'zh-CN': '访问令牌没有执行此操作的权限',
  },
  'origin-not-allowed': { en: 'This browser origin is not allowed', 'zh-CN': '此网页来源未获准访问本机' },
  'not-found': { en: 'No such resource', 'zh-CN': '找不到所请求的对象' },
  'no-card': { en: 'No ID card was read recently', 'zh-CN': '最近没有读到身份证' },
  'method-not-allowed': { en: 'Method not allowed', 'zh-CN': '不支持此请求方法' },
  'request-timeout': { en: 'The request was not received in time', 'zh-CN': '请求未能按时收到' },
  'idempotency-key-reused': {
    en: 'The Idempotency-Key was used for a different request',
    'zh-CN': '该 Idempotency-Key 已用于另一个请求',
  },
  'request-expired': { en: 'The request expired before it could run', 'zh-CN': '请求在执行前已过期' },
  'device-busy': { en: 'The device is busy', 'zh-CN': '设备正忙' },
  'update-in-progress': {
    en: 'Another agent update is under way',
    'zh-CN': '另一个程序更新正在进行',
  },
  'downgrade-refused': {
    en: 'The release is not newer than the running version',
    'zh-CN': '该版本不比正在运行的版本新',
  },
  'bad-release-signature': {
    en: 'The release is not signed by a trusted release key',
    'zh-CN': '该版本没有受信任的发布密钥签名',
  },
  'journal-unavailable': {
    en: 'The system journal cannot be read',
    'zh-CN': '无法读取系统日志',
  },
  'not-simulated': { en: 'The device is not simulated', 'zh-CN': '该设备不是模拟设备' },
  'job-state-conflict': {
    en: 'The job is not in a state that allows this',
    'zh-CN': '任务当前状态不允许此操作',
  },
  'seal-token-invalid': {
    en: 'The confirmation token does not match this seal job',
    'zh-CN': '确认码与此盖印任务不符',
  },
  'seal-job-conflict': {
    en: 'The seal job is not in a state that allows this',
    'zh-CN': '盖印任务当前状态不允许此操作',
  },
  'seal-interlock': {
    en: 'The seal machine is not ready to stamp (cover, document, head or fault)',
    'zh-CN': '钢印机尚未准备好盖印（请检查机盖、文件、印头或故障）',
  },
  'seal-job-expired': {
    en: 'The seal job expired before it was confirmed',
    'zh-CN': '盖印任务在确认前已过期',
  },
  'payload-too-large': { en: 'The request body is too large', 'zh-CN': '请求内容过大' },
  'image-too-large': { en: 'The image has too many pixels', 'zh-CN': '图片像素过多' },
  'image-invalid': { en: 'The image cannot be read', 'zh-CN': '无法读取图片' },
  'no-face': { en: 'No face was found in the image', 'zh-CN': '图片中没有找到人脸' },
  'several-faces': { en: 'More than one face was found in the image', 'zh-CN': '图片中有多张人脸' },
  'face-quality': { en: 'The face is not good enough to enrol', 'zh-CN': '人脸质量不足，无法登记' },
  'face-not-live': { en: 'The face did not pass the liveness check', 'zh-CN': '人脸未通过活体检测' },
  'photo-unusable': {
    en: 'The picture cannot make an ID photo (framing, size or background)',
    'zh-CN': '这张照片不能用作证件照（构图、大小或背景不合格）',
  },
  'capture-timeout': {
    en: 'The camera saw no good, live face in time (see `missing` and `hint`)',
    'zh-CN': '摄像头在规定时间内没有拍到合格的真人人脸（见 `missing` 和 `hint`）',
  },
  'template-invalid': { en: 'The template is not valid', 'zh-CN': '人脸特征模板无效' },
  'model-mismatch': {
    en: 'The template was made by another face model',
    'zh-CN': '人脸特征模板由其他人脸模型生成',
  },
  'person-exists': { en: 'A person with this id is already enrolled', 'zh-CN': '该编号的人员已登记' },
  'person-full': { en: 'The person has the maximum number of faces', 'zh-CN': '该人员登记的人脸已达上限' },
  'uri-too-long': { en: 'A part of the URL is too long', 'zh-CN': '网址中有一部分过长' },
  'unsupported-media-type': { en: 'Unsupported content type', 'zh-CN': '不支持的内容类型' },
  'unprintable-document': {
    en: 'The document cannot be printed as asked',
    'zh-CN': '无法按要求打印该文档',
  },
  'unknown-template': { en: 'No such print template', 'zh-CN': '没有这个打印模板' },
  'misdirected-request': {
    en: 'The Host header does not name this box',
    'zh-CN': '请求的 Host 不是本机',
  },
  'rate-limited': { en: 'Too many requests', 'zh-CN': '请求过于频繁' },
  'headers-too-large': { en: 'The request headers are too large', 'zh-CN': '请求头过大' },
  internal: { en: 'Internal error', 'zh-CN': '内部错误' },
  'insufficient-storage': {
    en: 'The box has no room left to store this request',
    'zh-CN': '本机存储空间已满，无法保存此请求',
  },
  'device-unavailable': { en: 'The device is not ready', 'zh-CN': '设备未就绪' },
  'seal-device-error': {
    en: 'The seal machine did not answer as expected',
    'zh-CN': '钢印机应答异常',
  },
  'not-ready': { en: 'The agent is not ready', 'zh-CN': '服务尚未就绪' },
  'face-unavailable': { en: 'The face service is not available', 'zh-CN': '人脸服务不可用' },
  'camera-unavailable': { en: 'The camera cannot take a picture now', 'zh-CN': '摄像头现在无法拍照' },
  'face-busy': { en: 'The face service is busy; retry shortly', 'zh-CN': '人脸服务正忙，请稍后重试' },
  // Codes the other parts of issue 15 add to the registry (pairing, card decoder), titled ahead of the merge.
  'pairing-conflict': {
    en: 'The pairing request was already approved or denied',
    'zh-CN': '该配对请求已被批准或拒绝',
  },
  'pairing-expired': { en: 'The pairing request has expired', 'zh-CN': '该配对请求已过期' },
  'clerk-confirmation-required': {
    en: 'A clerk must confirm the card belongs to the person present (clerkConfirmed: true)',
    'zh-CN': '须由工作人员确认证件属于在场本人（clerkConfirmed: true）',
  },
  'card-photo-unavailable': {
    en: "The card's photo was not decoded (no decoder, or the vendor's decoder failed)",
    'zh-CN': '身份证照片未能解码（没有解码库，或厂商解码库出错）',
  },
} as const satisfies Record<string, Bilingual>;
