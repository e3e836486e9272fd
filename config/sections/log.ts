// Logging.
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../schema-kit.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LogSection = Type.Object(
  { level: StringEnum(LOG_LEVELS, { default: 'info' }) },
  { additionalProperties: false, default: {} },
);
