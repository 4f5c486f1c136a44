import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ContractViolationError, InvalidInputError, isCircleError } from './errors.js';
import { checkEmail, checkMemberId, checkSsoId, checkToken } from './input.js';
import type { Resilience, RetryClass } from './resilience.js';
import {
  type Endpoint,
  type MemberAPIToken,
  mapErrorResponse,
  memberTokenSchema,
  parseSuccess,
  type RefreshedAccessToken,
  refreshedAccessTokenSchema,
  type UpstreamResponse,
} from './responses.js';
import type { Transport, UpstreamRequest } from './transport.js';

/** How to find a member: exactly one identifier, as Circle's `auth_token` body takes it. */
export type MemberIdentifier = { communityMemberId: number } | { email: string } | { ssoId: string };

export interface CallOptions {
  /** Aborts the call (and its retries); the call rejects with code `ABORTED`. */
  signal?: AbortSignal;
}

/** One typed function per upstream endpoint: what the gateway's loaders call. */
export interface CircleApi {
  /** `POST /api/v1/headless/auth_token`: a member's access and refresh token. */
  issueMemberToken(identifier: MemberIdentifier, options?: CallOptions): Promise<MemberAPIToken>;
  /** `PATCH /api/v1/headless/access_token/refresh`: a new access token; the refresh token stays valid. */
  refreshAccessToken(refreshToken: string, options?: CallOptions): Promise<RefreshedAccessToken>;
  /** `POST /api/v1/headless/refresh_token/revoke` (204). */
  revokeRefreshToken(refreshToken: string, options?: CallOptions): Promise<void>;
  /** `POST /api/v1/headless/access_token/revoke` (204). */
  revokeAccessToken(accessToken: string, options?: CallOptions): Promise<void>;
  /**
   * Checks that Circle is reachable and accepts the app token, without minting or touching any
   * token: an access-token revoke with no token, which Circle answers with its missing-parameter
   * 404 once the app token is accepted (401/403 otherwise). Never retried.
   */
  probe(options?: CallOptions): Promise<void>;
}

/**
 * Sees every HTTP attempt the client makes (retries included) and every call the breaker refused
 * without one: for metrics. It never changes an outcome; it is told no token and no body.
 */
export interface UpstreamObserver {
  /** One attempt: `ok`, or the client error code it ended with, and how long it took. */
  attempt(endpoint: Endpoint, outcome: string, seconds: number): void;
  /** A call the open breaker refused: no attempt was made. */
  shortCircuit(endpoint: Endpoint): void;
}

export const paths = {
  authToken: '/api/v1/headless/auth_token',
  refresh: '/api/v1/headless/access_token/refresh',
  revokeRefresh: '/api/v1/headless/refresh_token/revoke',
  revokeAccess: '/api/v1/headless/access_token/revoke',
} as const satisfies Record<Endpoint, string>;

function authTokenBody(identifier: MemberIdentifier): Record<string, unknown> {
  if ('communityMemberId' in identifier) {
    return { community_member_id: checkMemberId('communityMemberId', identifier.communityMemberId) };
  }
  if ('email' in identifier) return { email: checkEmail('email', identifier.email) };
  if ('ssoId' in identifier) return { sso_user_id: checkSsoId('ssoId', identifier.ssoId) };
  throw new TypeError('issueMemberToken: expected one of communityMemberId, email or ssoId');
}

function expectNoContent(response: UpstreamResponse): undefined {
  // The OpenAPI file documents 204; a 200 is accepted as the same success.
  if (response.status === 204 || response.status === 200) return undefined;
  throw new ContractViolationError(`undocumented success status ${response.status}`, {
    status: response.status,
  });
}

function expectOk<T>(parse: (response: UpstreamResponse) => T) {
  return (response: UpstreamResponse): T => {
    if (response.status !== 200) {
      throw new ContractViolationError(`undocumented success status ${response.status}`, {
        status: response.status,
      });
    }
    return parse(response);
  };
}

/** An attempt's outcome for the metrics: an abort here is the call's deadline (UPSTREAM_TIMEOUT). */
function outcomeOf(error: unknown, signal: AbortSignal): string {
  return isCircleError(error) ? error.code : signal.aborted ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_CONNECTION';
}

export function createApi(
  transport: Transport,
  resilience: Resilience,
  observer?: UpstreamObserver,
  { spans }: { spans: boolean } = { spans: true },
): CircleApi {
  const tracer = trace.getTracer('circle-auth-gateway');

  /** One HTTP attempt seen by the observer (metrics) alone, when no span is made. */
  async function observed<T>(endpoint: Endpoint, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      observer?.attempt(endpoint, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      observer?.attempt(endpoint, outcomeOf(error, signal), (performance.now() - started) / 1000);
      throw error;
    }
  }

  /**
   * One HTTP attempt, seen by the observer (metrics) and as a CLIENT span (OpenTelemetry, a no-op
   * unless tracing is on), a child of whatever span is current. The span records the endpoint, the
   * method, the status and the outcome: no URL, header, body or token.
   */
  function attempt<T>(
    endpoint: Endpoint,
    method: string,
    signal: AbortSignal,
    run: () => Promise<T>,
  ): Promise<T> {
    if (!spans) return observed(endpoint, signal, run);
    return tracer.startActiveSpan(
      `circle ${endpoint}`,
      { kind: SpanKind.CLIENT, attributes: { 'circle.endpoint': endpoint, 'http.request.method': method } },
      async (span) => {
        const started = performance.now();
        try {
          const result = await run();
          observer?.attempt(endpoint, 'ok', (performance.now() - started) / 1000);
          span.setAttribute('circle.outcome', 'ok');
          return result;
        } catch (error) {
          const outcome = outcomeOf(error, signal);
          observer?.attempt(endpoint, outcome, (performance.now() - started) / 1000);
          span.setAttribute('circle.outcome', outcome);
          if (isCircleError(error) && error.status !== undefined) {
            span.setAttribute('http.response.status_code', error.status);
          }
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  function call<T>(
    endpoint: Endpoint,
    retryClass: RetryClass,
    method: UpstreamRequest['method'],
    body: Record<string, unknown>,
    onSuccess: (response: UpstreamResponse) => T,
    options: CallOptions | undefined,
  ): Promise<T> {
    const called = resilience.run(
      retryClass,
      (signal) =>
        attempt(endpoint, method, signal, async () => {
          const response = await transport.send({ method, path: paths[endpoint], body, signal });
          if (response.status >= 200 && response.status < 300) return onSuccess(response);
          throw mapErrorResponse(endpoint, response, resilience.rateLimitBackoffSeconds);
        }),
      options?.signal,
    );
    if (!observer) return called;
    return called.catch((error: unknown) => {
      if (isCircleError(error) && error.code === 'CIRCUIT_OPEN') observer.shortCircuit(endpoint);
      throw error;
    });
  }

  return {
    async issueMemberToken(identifier, options) {
      const body = authTokenBody(identifier);
      return call(
        'authToken',
        'issue',
        'POST',
        body,
        expectOk((r) => parseSuccess(memberTokenSchema, r)),
        options,
      );
    },
    async refreshAccessToken(refreshToken, options) {
      const body = { refresh_token: checkToken('refreshToken', refreshToken) };
      return call(
        'refresh',
        'refresh',
        'PATCH',
        body,
        expectOk((r) => parseSuccess(refreshedAccessTokenSchema, r)),
        options,
      );
    },
    async revokeRefreshToken(refreshToken, options) {
      const body = { refresh_token: checkToken('refreshToken', refreshToken) };
      await call('revokeRefresh', 'revoke', 'POST', body, expectNoContent, options);
    },
    async probe(options) {
      try {
        await call('revokeAccess', 'probe', 'POST', {}, expectNoContent, options);
      } catch (error) {
        if (error instanceof InvalidInputError && error.status === 404) return;
        throw error;
      }
    },
    async revokeAccessToken(accessToken, options) {
      const body = { access_token: checkToken('accessToken', accessToken) };
      await call('revokeAccess', 'revoke', 'POST', body, expectNoContent, options);
    },
  };
}
