import { type CallOptions, type CircleApi, createApi } from './endpoints.js';
import { isCircleError } from './errors.js';
import { createResilience, type ResilienceOptions } from './resilience.js';
import type { MemberAPIToken, RefreshedAccessToken } from './responses.js';
import { createTransport, type TransportOptions } from './transport.js';

export type { CallOptions, CircleApi, MemberIdentifier } from './endpoints.js';
export type { MemberAPIToken, RefreshedAccessToken } from './responses.js';

export type ClientOptions = TransportOptions & ResilienceOptions;

/** What the SDK's revoke methods resolve to when Circle answers with an error. */
export interface FailedRequest {
  success: false;
  message: string;
}

/**
 * A drop-in for `@circleco/headless-server-sdk`'s client: the same six methods, arguments and
 * resolved shapes, plus `api` (one typed function per endpoint, which rejects on every failure),
 * `breakerState()` and `close()`.
 */
export interface CircleClient {
  getMemberAPITokenFromCommunityMemberId(memberId: number, options?: CallOptions): Promise<MemberAPIToken>;
  getMemberAPITokenFromEmail(email: string, options?: CallOptions): Promise<MemberAPIToken>;
  getMemberAPITokenFromSSOId(ssoId: string, options?: CallOptions): Promise<MemberAPIToken>;
  getMemberAPITokenFromRefreshToken(
    refreshToken: string,
    options?: CallOptions,
  ): Promise<RefreshedAccessToken>;
  /** Resolves to `null` once revoked, or to `{ success: false, message }` when Circle answers with an error. */
  revokeRefreshToken(refreshToken: string, options?: CallOptions): Promise<null | FailedRequest>;
  /** Resolves to `null` once revoked, or to `{ success: false, message }` when Circle answers with an error. */
  revokeMemberAPIToken(accessToken: string, options?: CallOptions): Promise<null | FailedRequest>;
  readonly api: CircleApi;
  breakerState(): 'closed' | 'open' | 'half-open';
  /** Closes the connection pool (not an injected dispatcher). */
  close(): Promise<void>;
}

/**
 * The SDK resolves revokes to Circle's error body; failures where Circle gave no answer (input,
 * timeout, connection, open breaker, abort) still reject with a typed error.
 */
async function sdkRevoke(revoke: Promise<void>): Promise<null | FailedRequest> {
  try {
    await revoke;
    return null;
  } catch (error) {
    if (isCircleError(error) && error.status !== undefined) {
      return { success: false, message: error.upstreamMessage ?? error.message };
    }
    throw error;
  }
}

export function createClient(options: ClientOptions): CircleClient {
  const transport = createTransport(options);
  const resilience = createResilience(options);
  const api = createApi(transport, resilience);
  return {
    getMemberAPITokenFromCommunityMemberId: (communityMemberId, o) =>
      api.issueMemberToken({ communityMemberId }, o),
    getMemberAPITokenFromEmail: (email, o) => api.issueMemberToken({ email }, o),
    getMemberAPITokenFromSSOId: (ssoId, o) => api.issueMemberToken({ ssoId }, o),
    getMemberAPITokenFromRefreshToken: (refreshToken, o) => api.refreshAccessToken(refreshToken, o),
    revokeRefreshToken: (refreshToken, o) => sdkRevoke(api.revokeRefreshToken(refreshToken, o)),
    revokeMemberAPIToken: (accessToken, o) => sdkRevoke(api.revokeAccessToken(accessToken, o)),
    api,
    breakerState: () => resilience.breakerState(),
    close: () => transport.close(),
  };
}
