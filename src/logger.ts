import { createHash } from 'node:crypto';
import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Paths pino blanks in every log line. The gateway logs codes, statuses and request ids, never
 * tokens; this list is the second line of defence for anything that slips into a log object.
 */
const redactPaths = [
  'appToken',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'email',
  'authorization',
  '*.appToken',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.email',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

/**
 * What a redacted value becomes: an email a short SHA-256 (so lines about one member can still be
 * correlated), anything else `[redacted]`.
 */
function censor(value: unknown, path: string[]): string {
  if (path.at(-1) === 'email' && typeof value === 'string') {
    return `sha256:${createHash('sha256').update(value.toLowerCase()).digest('hex').slice(0, 16)}`;
  }
  return '[redacted]';
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'circle-auth-gateway' },
      redact: { paths: redactPaths, censor },
    },
    destination,
  );
}

export type { Logger };

/**
 * yoga's own log calls routed to pino. Yoga logs a few debug lines per request: nothing is built for
 * them unless debug is on. Its error lines duplicate useErrorLogging's (which carry the request id),
 * so they go to debug, as error names only.
 */
export function yogaLogger(logger: Logger) {
  const at =
    (level: 'debug' | 'info' | 'warn', name = (a: unknown) => String(a)) =>
    (...args: unknown[]) => {
      if (logger.isLevelEnabled(level)) logger[level]({ yoga: args.map(name) });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('debug', (a) => (a instanceof Error ? a.name : String(a))),
  };
}
