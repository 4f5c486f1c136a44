import type { Logger } from './logger.js';
import { requestsInFlight } from './request/id.js';

/**
 * An error nobody caught leaves the process in a state nobody planned for: log it once, at fatal,
 * with the ids of the requests in flight (the one it escaped from is among them, and all of them
 * are lost with the process, so a client quoting any of them finds this line), and exit non-zero so the
 * supervisor starts a clean process, rather than serving on half alive. Only the error's name,
 * message and stack are logged.
 */
export function exitOnCrash(logger: Logger, exit: (code: number) => void = process.exit): void {
  const crash = (what: string) => (error: unknown) => {
    const err =
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : { name: typeof error, message: String(error) };
    logger.fatal({ ...requestsInFlight(), err }, `${what}: exiting`);
    exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}
