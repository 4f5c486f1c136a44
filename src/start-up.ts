import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { type AuditLog, createAuditLog } from './audit/index.js';
import { ConfigError, type GatewayConfig, loadConfig } from './config/load.js';
import type { DestinationStream, Logger } from './logger.js';
import { startMetricsServer } from './metrics/server.js';
import type { SharedState } from './redis/index.js';
import type { Sandbox } from './sandbox/server.js';

/**
 * The steps of start-up that can fail for a reason the operator can fix: each ends the process
 * with one line naming the setting (a port in use, an unwritable file), not a stack trace.
 */
export function fail(what: string, error: unknown): never {
  const code = (error as { code?: string }).code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the address is already in use'
      : code === 'EACCES'
        ? 'permission denied'
        : String((error as Error).message);
  process.stderr.write(`circle-auth-gateway: ${what}: ${reason}\n`);
  process.exit(1);
}

/** The configuration, or one line saying what is wrong with it and exit 1. */
export function configOrExit(env: NodeJS.ProcessEnv): GatewayConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`circle-auth-gateway: ${error.message}\n`);
    process.exit(1);
  }
}

/** The embedded sandbox when no app token is set (loaded only then). */
export async function sandboxIfNeeded(config: GatewayConfig): Promise<Sandbox | undefined> {
  if (config.circleAppToken !== undefined) return undefined;
  const { startSandbox } = await import('./sandbox/server.js');
  return startSandbox(config.sandbox).catch((error: unknown) =>
    fail(
      `cannot start the sandbox on ${config.sandbox.host}:${config.sandbox.port} (SANDBOX_HOST, SANDBOX_PORT)`,
      error,
    ),
  );
}

/** The audit trail; never serve tokens without it: an unwritable file stops the start-up. */
export function auditOrExit(config: GatewayConfig, appToken: string, stdout: DestinationStream): AuditLog {
  try {
    return createAuditLog({
      appToken,
      ...(config.auditLogFile ? { file: config.auditLogFile } : { destination: stdout }),
    });
  } catch (error) {
    fail(`cannot write the audit trail to ${config.auditLogFile} (AUDIT_LOG_FILE)`, error);
  }
}

/**
 * State the replicas share through Redis (loaded only with `REDIS_URL`): start-up waits for it
 * briefly, and without it serves on per-replica insurance limits until it answers.
 */
export async function sharedStateIfConfigured(
  config: GatewayConfig,
  appToken: string,
  logger: Logger,
): Promise<SharedState | undefined> {
  if (!config.redis) return undefined;
  const { connectSharedState } = await import('./redis/index.js');
  return connectSharedState({
    url: config.redis.url,
    appToken,
    timeoutMs: config.redis.timeoutMs,
    replicas: config.rateLimits.replicas,
    flightWaitMs: config.upstreamTimeoutMs,
    logger,
  });
}

/** Listens on `host:port`, or ends the process saying why not (`setting` names the variables). */
export async function listenOrExit(
  server: Server,
  host: string,
  port: number,
  setting: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  }).catch((error: unknown) => fail(`cannot listen on ${host}:${port} (${setting})`, error));
}

/** Prometheus metrics on a listener of their own (`METRICS_PORT`), or one line saying why not. */
export async function metricsServerOrExit(config: GatewayConfig, registry: Registry) {
  const { host, port } = config.metrics;
  if (port === undefined) return undefined;
  return startMetricsServer(registry, host, port).catch((error: unknown) =>
    fail(`cannot serve metrics on ${host}:${port} (METRICS_HOST, METRICS_PORT)`, error),
  );
}
