import type { MemberAPIToken, RefreshedAccessToken } from '../client/responses.js';
import {
  ErrorResult,
  InvalidInputResult,
  RateLimitedResult,
  reviveResult,
  UpstreamUnavailableResult,
} from '../domain/outcomes.js';

/*
 * The wire format of a refresh or mint outcome between replicas (through Redis, sealed there): JSON text.
 */

/** A refresh outcome as it travels between replicas: the token, or the typed result every follower gets too. */
export function encodeOutcome(outcome: RefreshedAccessToken | MemberAPIToken | Error): string {
  if (!(outcome instanceof Error)) return JSON.stringify({ ok: outcome });
  return JSON.stringify({
    error:
      outcome instanceof ErrorResult
        ? { code: outcome.code, message: outcome.message, ...detailsOf(outcome) }
        : { code: 'UPSTREAM_UNAVAILABLE', message: '' },
  });
}

function detailsOf(result: ErrorResult): { retryAfterSeconds?: number; argument?: string } {
  if (result instanceof RateLimitedResult) return { retryAfterSeconds: result.retryAfterSeconds };
  if (result instanceof InvalidInputResult) return { argument: result.argument };
  return {};
}

export function decodeOutcome(text: string | undefined): RefreshedAccessToken | Error {
  if (text === undefined) return new UpstreamUnavailableResult();
  const parsed = JSON.parse(text) as
    | { ok: RefreshedAccessToken }
    | { error: { code: string; message: string; argument?: string; retryAfterSeconds?: number } };
  return 'ok' in parsed ? parsed.ok : reviveResult(parsed.error);
}
