import type { Logger } from './logger.js';
import { currentRequestId } from './plugins/use-request-id.js';

/**
 * An error nobody caught leaves the process in a state nobody planned for: log it once, at fatal,
 * with the id of the request it escaped from when there is one, and exit non-zero so the
 * supervisor starts a clean process, rather than serving on half alive. Only the error's name,
 * message and stack are logged.
 */
export function exitOnCrash(logger: Logger, exit: (code: number) => void = process.exit): void {
  const crash = (what: string) => (error: unknown) => {
    const err =
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : { name: typeof error, message: String(error) };
    logger.fatal({ requestId: currentRequestId(), err }, `${what}: exiting`);
    exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}
