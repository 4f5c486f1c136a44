import type { CallerAuthentication } from './auth/callers.js';
import { type GatewayConfig, reloadCallerAuth } from './config/load.js';
import type { Drain } from './drain.js';
import type { Logger } from './logger.js';

export interface SignalOptions {
  config: GatewayConfig;
  logger: Logger;
  drain: Drain;
  /** Caller authentication, reloaded on SIGHUP. */
  callers: CallerAuthentication;
  /** Sandbox mode: its rules for caller authentication apply to a reload. */
  sandbox: boolean;
  /** What to close after the drain, in order (the client, Redis, the metrics server, traces, the sandbox). */
  close: (() => Promise<unknown>)[];
}

/**
 * SIGTERM: `/ready` answers 503 at once, on every connection, while the listener keeps serving for
 * SHUTDOWN_DELAY_MS, so that a load balancer's health check (or Kubernetes' endpoints) takes this
 * replica out before it refuses anything; then the drain, then everything in `close`, exit 0.
 * SIGINT (a person at a terminal) skips the delay. SIGHUP reads caller authentication again.
 * Returns whether the process is stopping (what `/ready` reads).
 */
export function handleSignals(options: SignalOptions): () => boolean {
  const { config, logger } = options;
  let stopping = false;

  async function shutdown(signal: string) {
    // A repeated signal (a wrapper relaying it, or the whole process group getting it) changes nothing.
    if (stopping) {
      logger.info({ signal }, 'already draining');
      return;
    }
    stopping = true;
    const delayMs = signal === 'SIGTERM' ? config.shutdownDelayMs : 0;
    if (delayMs > 0) {
      logger.info(
        { signal, delayMs },
        'shutting down: /ready answers 503, still serving until balancers notice',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    logger.info({ signal, drainMs: config.shutdownDrainMs }, 'shutting down: draining in-flight requests');
    if (!(await options.drain.drain(config.shutdownDrainMs))) {
      logger.warn('drain deadline passed: closed the remaining connections');
    }
    for (const close of options.close) await close();
    logger.info('stopped');
    process.exit(0);
  }

  // Key rotation without a restart: API keys and JWT settings are read again (files included), and
  // requests from then on are authenticated by them. A bad new setting keeps the previous ones, less
  // every API key the file no longer lists: a removal always applies (config/load.ts).
  let authInForce = config.auth;
  process.on('SIGHUP', () => {
    const { auth, problem } = reloadCallerAuth(process.env, {
      sandbox: options.sandbox,
      previous: authInForce,
    });
    const removed = authInForce.apiKeys.size - auth.apiKeys.size;
    authInForce = auth;
    options.callers.reload(auth);
    if (problem === undefined) {
      logger.info(
        { apiKeys: auth.apiKeys.size, memberJwt: auth.jwt !== undefined },
        'SIGHUP: caller authentication reloaded',
      );
    } else {
      logger.error(
        { reason: problem, apiKeys: auth.apiKeys.size, removed },
        'SIGHUP: the new settings are not valid: the previous ones kept, less the API keys no longer listed',
      );
    }
  });
  // `on`, not `once`: a second SIGTERM must find a handler too, or it would kill the process mid-drain.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return () => stopping;
}
