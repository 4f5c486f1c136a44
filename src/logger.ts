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

const base = { service: 'circle-auth-gateway' };
// The unredacted sibling of each logger, for lines whose every field the gateway builds itself.
const siblings = new WeakMap<Logger, Logger>();

/**
 * A file or descriptor written asynchronously and in batches (pino's sonic-boom): lines are handed to
 * the kernel 4 KiB at a time, or at the latest a second after they were logged, so a busy gateway
 * makes one write per dozen lines and a quiet one still shows its lines at once. pino flushes it
 * synchronously when the process exits, a crash's exit included.
 */
export function bufferedDestination(
  dest: number | string,
  options: { mkdir?: boolean } = {},
): DestinationStream {
  const stream = pino.destination({ dest, sync: false, append: true, minLength: 4096, ...options });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // not open yet, or closed at exit
    }
  }, 1000).unref();
  return stream;
}

/**
 * Standard output, buffered as above. One stream for the log and the audit trail (when it goes to
 * standard output): two writers on one descriptor could interleave their batches mid-line.
 */
export function stdoutDestination(): DestinationStream {
  return bufferedDestination(1);
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const logger = pino({ level, base, redact: { paths: redactPaths, censor } }, destination);
  siblings.set(logger, pino({ level, base }, destination));
  return logger;
}

/**
 * A logger for lines made only of fields the gateway builds itself from fixed vocabularies (the
 * access log): the same level and destination, without redaction, which costs three times the
 * rest of such a line (about 25 µs against 8). Anything that may carry a caller's or Circle's
 * values goes through `createLogger`'s logger.
 */
export function fixedFieldLogger(logger: Logger): Logger {
  return siblings.get(logger) ?? logger;
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
