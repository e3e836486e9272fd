import { pino, type DestinationStream, type Logger } from 'pino';

/** JSON lines on stdout (journald keeps them); secrets are redacted wherever they might be logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'boxagent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'token', '*.token', 'secret'],
  };
  // The destination is for tests that read what was logged; the daemon writes to stdout.
  return destination ? pino(options, destination) : pino(options);
}
