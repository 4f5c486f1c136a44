import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
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
 * How emails are named in log lines: the audit trail's keyed hash (an unkeyed one can be reversed
 * by hashing candidate addresses). Set once the key is known (it is derived from the app token);
 * until then, and without it, an email is `[redacted]` like any other secret.
 */
export interface EmailHasher {
  hash?: (email: string) => string;
}

/**
 * What a redacted value becomes: an email its keyed hash (so lines about one member can still be
 * correlated, with each other and with the audit trail), anything else `[redacted]`.
 */
function censorWith(emails: EmailHasher) {
  return (value: unknown, path: string[]): string => {
    if (path.at(-1) === 'email' && typeof value === 'string' && emails.hash) return emails.hash(value);
    return '[redacted]';
  };
}

const base = { service: 'circle-auth-gateway' };
// Every buffered stream, flushed when the process exits (a crash's exit included).
const streams = new Set<ReturnType<typeof pino.destination>>();
process.on('exit', () => {
  for (const stream of streams) {
    try {
      stream.flushSync();
    } catch (error) {
      // The reader is gone (EPIPE: a log collector that died) or the descriptor was closed: what
      // is left cannot be written. pino flushes its destinations at exit too, after this, and an
      // EPIPE there would escape as a crash (exit 1 after a clean drain); told of it as pino's own
      // writes tell it, pino stops writing to the stream.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE' && stream.listenerCount('error') > 0)
        stream.emit('error', error);
    }
  }
});

/**
 * A file or descriptor written asynchronously and in batches (pino's sonic-boom, buffering by
 * itself): lines reach the kernel about 16 KiB at a time, or at the latest a second after they were
 * logged, so a busy gateway makes one write per fifty lines and a quiet one still shows its lines
 * within the second. Flushed synchronously when the process exits. (A hand-written batch encoding
 * lines into a buffer was measured against this and did not pay: bench/README.md.)
 *
 * A file is opened here, synchronously, for appending (its directory made first with `mkdir`): a
 * path that cannot be written throws now, with the system's reason, so that start-up fails on it.
 * sonic-boom would open it in the background, and a failure there surfaced later as a crash, with
 * the lines gathered meanwhile lost and a second error at exit ("sonic boom is not ready yet").
 */
export function bufferedDestination(
  dest: number | string,
  options: { mkdir?: boolean } = {},
): DestinationStream {
  let fd = dest;
  if (typeof dest === 'string') {
    if (options.mkdir) mkdirSync(dirname(dest), { recursive: true });
    fd = openSync(dest, 'a');
  }
  // sonic-boom gathers lines until 16 KiB are waiting, then writes them in one call (its minLength
  // must be under maxWrite, 16 KiB by default).
  const stream = pino.destination({ dest: fd, sync: false, minLength: 16 * 1024, maxWrite: 64 * 1024 });
  streams.add(stream);
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // closed at exit
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

export function createLogger(
  level: string,
  destination?: DestinationStream,
  emails: EmailHasher = {},
): Logger {
  return pino(
    { level, base, redact: { paths: redactPaths, censor: censorWith(emails) } },
    destination ?? pino.destination(1),
  );
}

export type { DestinationStream, Logger };

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
