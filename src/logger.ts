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
// Where each logger writes, for lines written without pino (`infoLineWriter`).
const destinations = new WeakMap<Logger, DestinationStream>();

/**
 * Lines encoded straight into a 16 KiB buffer and handed to sonic-boom (in its buffer mode) a batch
 * at a time. sonic-boom alone measured its whole pending text again on every line it was given
 * (`Buffer.byteLength` of a string grown line by line): 5.0 µs a line. Gathering the lines as strings
 * and joining them brought that to 2.5 µs, but kept every line alive on the heap until its batch was
 * written and copied it twice more (the join, then the string's encoding for the write); encoded
 * here, a line's string dies young and is copied once (bench/README.md, observability). sonic-boom
 * still does all the writing: the descriptor, partial writes, EAGAIN on a full pipe, the synchronous
 * flush at exit.
 */
class LineBatch implements DestinationStream {
  private buffer: Buffer;
  private used = 0;
  constructor(
    private readonly stream: ReturnType<typeof pino.destination>,
    private readonly batchLength: number,
  ) {
    this.buffer = Buffer.allocUnsafe(batchLength);
  }
  write(line: string): void {
    // A UTF-8 byte per UTF-16 unit for ASCII, at most three for any: room for the worst case.
    if (line.length * 3 > this.batchLength - this.used) {
      this.handOver();
      if (line.length * 3 > this.batchLength) {
        this.put(Buffer.from(line));
        return;
      }
    }
    this.used += this.buffer.write(line, this.used);
  }
  private handOver(): void {
    if (this.used === 0) return;
    // sonic-boom keeps the bytes until they are written: the next batch gets a buffer of its own.
    this.put(this.buffer.subarray(0, this.used));
    this.buffer = Buffer.allocUnsafe(this.batchLength);
    this.used = 0;
  }
  private put(bytes: Buffer): void {
    // sonic-boom's types know only strings; in its buffer mode it takes Buffers.
    this.stream.write(bytes as unknown as string);
  }
  /** Hands what is gathered to sonic-boom and has it written (asynchronously). */
  flush(): void {
    this.handOver();
    this.stream.flush();
  }
  /** Hands what is gathered to sonic-boom and writes it out before returning (at exit). */
  flushSync(): void {
    this.handOver();
    this.stream.flushSync();
  }
}

// Every batch, flushed when the process exits (a crash's exit included). pino's own exit hook
// flushes sonic-boom first, which holds the older lines, so the order holds.
const batches = new Set<LineBatch>();
process.on('exit', () => {
  for (const batch of batches) {
    try {
      batch.flushSync();
    } catch {
      // the reader is gone (EPIPE), or the descriptor was closed
    }
  }
});

/**
 * A file or descriptor written asynchronously and in batches (pino's sonic-boom, fed by a
 * `LineBatch`): lines reach the kernel 16 KiB at a time, or at the latest a second after they were
 * logged, so a busy gateway makes one write per fifty lines and a quiet one still shows its lines
 * within the second. Flushed synchronously when the process exits.
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
  const stream = pino.destination({ dest: fd, sync: false, contentMode: 'buffer' });
  const batch = new LineBatch(stream, 16 * 1024);
  batches.add(batch);
  setInterval(() => {
    try {
      batch.flush();
    } catch {
      // closed at exit
    }
  }, 1000).unref();
  return batch;
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
  // pino's own default, named so that lines written without pino go to the same place.
  const to = destination ?? pino.destination(1);
  const logger = pino({ level, base, redact: { paths: redactPaths, censor: censorWith(emails) } }, to);
  destinations.set(logger, to);
  return logger;
}

/** What `infoLineWriter` gives. */
export interface InfoLineWriter {
  /** Whether the logger writes info lines now: check it before building one. */
  enabled(): boolean;
  write(members: string, msg: string): void;
}

/**
 * A writer of info lines made only of fields the gateway builds itself from fixed vocabularies (the
 * access log), in pino's format and to `logger`'s destination, without pino: the caller gives the
 * line's own members already serialised (`"status":200,"path":"/graphql"`). Through pino such a
 * line cost 1.6 µs in a quiet process (its redaction three times that again), written this way
 * 0.35 µs (bench/README.md, observability). Anything that may carry a caller's or Circle's values
 * goes through `createLogger`'s logger, which redacts.
 */
export function infoLineWriter(logger: Logger): InfoLineWriter {
  const enabled = () => logger.isLevelEnabled('info');
  const destination = destinations.get(logger);
  if (!destination) {
    return { enabled, write: (members, msg) => logger.info(JSON.parse(`{${members}}`), msg) };
  }
  const head = `{"level":${logger.levels.values.info},"time":`;
  const bindings = JSON.stringify(base).slice(1, -1);
  return {
    enabled,
    write: (members, msg) =>
      destination.write(`${head}${Date.now()},${bindings},${members},"msg":${JSON.stringify(msg)}}\n`),
  };
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
