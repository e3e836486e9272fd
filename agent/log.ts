import { pino, type Logger } from 'pino';

/** JSON lines on stdout (journald keeps them); secrets are redacted wherever they might be logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'boxagent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'token', '*.token', 'secret'],
  });
}
