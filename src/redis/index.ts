import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import type { SharedFlights } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Admission, SharedCounterStore, Verdict } from '../rate-limits/index.js';
import type { SessionStore } from '../sessions/store.js';
import { admitScript, admitScriptSha } from './script.js';
import { type RedisSecrets, redisSecrets } from './secrets.js';
import { redisSessionStore } from './sessions.js';

/**
 * State the replicas share through Redis (`REDIS_URL`): the rate limits' counters and Circle's
 * budget (store), and refresh flights (flights). Redis is a dependency that fails: every command
 * has a deadline and no command waits for a connection (no offline queue); the first failure marks
 * Redis down (logged once), the limits fall back to per-replica insurance, and a probe every second
 * brings sharing back when Redis answers again. A Redis that restarts empty starts the counts afresh.
 */
export interface SharedStateOptions {
  /** `redis://` or `rediss://`, credentials in the URL. Never logged. */
  url: string;
  /** Keys are hashed and flights sealed under keys derived from it (redis/secrets.ts). */
  appToken: string;
  /** The longest one Redis command may take. */
  timeoutMs: number;
  /** Replicas as configured (`GATEWAY_REPLICAS`): the insurance divisor until Redis has said more. */
  replicas: number;
  /** How long a follower waits for a refresh another replica leads: the upstream deadline. */
  flightWaitMs: number;
  logger: Logger;
}

export interface SharedState {
  store: SharedCounterStore;
  flights: SharedFlights;
  /** Sessions, shared by the replicas (redis/sessions.ts). */
  sessions: SessionStore;
  /** Whether Redis answers now, and the replicas last seen sharing it. */
  status(): { up: boolean; replicas: number };
  close(): Promise<void>;
}

/** Every key this gateway writes starts so (`v1`: the layout; a new layout gets a new prefix). */
export const KEY_PREFIX = 'cag:v1:';
const COUNTER = `${KEY_PREFIX}n:`;
const FLIGHT = `${KEY_PREFIX}f:`;
const REPLICAS = `${KEY_PREFIX}replicas`;
/** A replica not heard from for this long no longer counts. */
const REPLICA_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;
const PROBE_MS = 1_000;
/** How long a flight's outcome stays for followers still polling, and how often they poll. */
const OUTCOME_TTL_MS = 5_000;
const POLL_MS = 20;

class RedisDeadlineError extends Error {
  override name = 'RedisDeadlineError';
  readonly code = 'DEADLINE';
}

/**
 * `call`, or a rejection once `ms` have passed. node-redis's own command timeout covers only the
 * wait to be written: a command sent to a Redis that hangs (stopped, overloaded, a half-open
 * connection) would wait for its reply for ever. Its late outcome is ignored.
 */
function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  call.catch(() => undefined);
  return Promise.race([
    call,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisDeadlineError('Redis did not answer in time')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What a failure is logged as: its code or class, never its message (which could hold an address). */
function describe(error: unknown): string {
  const { code, name } = error as { code?: string; name?: string };
  return code ?? name ?? 'unknown';
}

export async function connectSharedState(options: SharedStateOptions): Promise<SharedState> {
  const { logger } = options;
  const secrets: RedisSecrets = redisSecrets(options.appToken);
  const replica = randomUUID();
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.timeoutMs },
    socket: {
      connectTimeout: Math.max(1000, options.timeoutMs),
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
    },
  });
  let up = false;
  let closed = false;
  let reported = false;
  let replicas = options.replicas;
  // The socket's own errors (refused, reset) arrive here while it reconnects; the probe decides.
  client.on('error', (error: unknown) => markDown(error));

  function markDown(error: unknown) {
    if (closed) return;
    if (up || !reported) {
      logger.warn(
        { reason: describe(error), insuranceReplicas: replicas },
        'Redis unreachable: rate limits and refresh flights are per replica until it answers again',
      );
      reported = true;
    }
    up = false;
  }

  const timed = <T>(call: Promise<T>) => withDeadline(call, options.timeoutMs);

  async function heartbeat(): Promise<void> {
    const now = Date.now();
    const [, , seen] = (await timed(
      client
        .multi()
        .zAdd(REPLICAS, { score: now, value: replica })
        .zRemRangeByScore(REPLICAS, '-inf', now - REPLICA_TTL_MS)
        .zCard(REPLICAS)
        .pExpire(REPLICAS, REPLICA_TTL_MS * 4)
        .exec(),
    )) as unknown as [number, number, number, number];
    replicas = Math.max(options.replicas, seen);
  }

  async function probe(): Promise<void> {
    if (closed || !client.isReady) return;
    try {
      await heartbeat();
      if (!up) {
        logger.info({ replicas }, 'Redis reachable: replicas share rate limits and refresh flights');
        reported = true;
      }
      up = true;
    } catch (error) {
      markDown(error);
    }
  }
  const timer = setInterval(() => void probe(), PROBE_MS);
  timer.unref();
  const heartbeatTimer = setInterval(() => {
    if (up) void probe();
  }, HEARTBEAT_MS);
  heartbeatTimer.unref();
  client.on('ready', () => void probe());

  // Start-up waits for Redis a little, never for long: without it the gateway serves on insurance.
  await Promise.race([client.connect().catch(markDown), sleep(Math.max(1000, options.timeoutMs))]);
  await probe();
  if (!up) markDown(new Error('not connected'));

  /** Runs a Redis call; a failure marks Redis down and is passed on. */
  async function guarded<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await timed(call());
    } catch (error) {
      markDown(error);
      throw error;
    }
  }

  async function runAdmit(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(admitScriptSha, { keys, arguments: args });
    } catch (error) {
      // A Redis that restarted has forgotten the script: send it once more in full.
      if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
      return client.eval(admitScript, { keys, arguments: args });
    }
  }

  const budgetKey = secrets.key(COUNTER, 'budget');
  const counterKey = (key: string) => (key === 'budget' ? budgetKey : secrets.key(COUNTER, key));

  const store: SharedCounterStore = {
    available: () => up,
    replicas: () => replicas,
    admit: (admission: Admission) =>
      guarded(async (): Promise<Verdict> => {
        const budgets = admission.budgets ?? [];
        const counters = [...admission.counters, ...budgets];
        const keys = counters.map((counter) => counterKey(counter.key));
        if (admission.flight) keys.push(admission.flight.key);
        const args = [
          String(admission.counters.length),
          String(budgets.length),
          String(admission.flight?.ttlMs ?? 0),
          replica,
          String(admission.weight ?? 1),
          ...counters.flatMap((counter) => [
            counter.limit === Number.POSITIVE_INFINITY ? '-1' : String(counter.limit),
            String(counter.windowMs),
          ]),
        ];
        const [status, index, ms] = (await runAdmit(keys, args)) as [number, number?, number?];
        if (status === 0) {
          const counter = counters[(index as number) - 1];
          if (!counter) throw new Error('admit: the script refused an unknown counter');
          return { refused: counter.scope, retryAfterMs: ms as number };
        }
        return { admitted: status === 2 ? 'join' : 'lead' };
      }),
    used: (key) => guarded(async () => Number((await client.get(counterKey(key))) ?? 0)),
  };

  const flights: SharedFlights = {
    key: (token) => secrets.key(FLIGHT, token),
    holdMs: options.flightWaitMs + 1000,
    async wait(key) {
      const deadline = Date.now() + options.flightWaitMs;
      const outcomeKey = `${key}:o`;
      while (Date.now() < deadline && !closed) {
        let sealed: string | null | undefined;
        let held: string | null | undefined;
        try {
          [sealed, held] = (await timed(client.mGet([outcomeKey, key]))) as [string | null, string | null];
        } catch {
          // Redis went away mid-flight: the outcome may never come; keep trying until the deadline.
        }
        if (sealed) return secrets.open(sealed, outcomeKey);
        // No outcome and no holder: the leader gave up (its replica stopped); nothing will come.
        if (sealed === null && held === null) return undefined;
        await sleep(POLL_MS);
      }
      return undefined;
    },
    async publish(key, outcome) {
      const outcomeKey = `${key}:o`;
      await timed(
        client
          .multi()
          .set(outcomeKey, secrets.seal(outcome, outcomeKey), { PX: OUTCOME_TTL_MS })
          .del(key)
          .exec(),
      ).catch(markDown);
    },
  };

  return {
    store,
    flights,
    sessions: redisSessionStore({ client, secrets, prefix: KEY_PREFIX, guarded }),
    status: () => ({ up, replicas }),
    async close() {
      closed = true;
      clearInterval(timer);
      clearInterval(heartbeatTimer);
      if (client.isReady) await timed(client.zRem(REPLICAS, replica)).catch(() => undefined);
      client.destroy();
    },
  };
}
