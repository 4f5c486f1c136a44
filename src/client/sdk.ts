import type { CallOptions } from './endpoints.js';
import { isCircleError } from './errors.js';
import type { MemberAPIToken, RefreshedAccessToken } from './responses.js';
import { type ClientOptions, createUpstream, type Upstream } from './upstream.js';

// The SDK's public types, so a user of the drop-in imports from one module.
export type { CallOptions, MemberIdentifier } from './endpoints.js';
export type { CircleErrorCode } from './errors.js';
export type { MemberAPIToken, RefreshedAccessToken } from './responses.js';
export type { ClientOptions } from './upstream.js';

/** What the SDK's revoke methods resolve to when Circle answers with an error. */
export interface FailedRequest {
  success: false;
  message: string;
}

/**
 * A drop-in for `@circleco/headless-server-sdk`'s client: the same six methods, arguments and
 * resolved shapes, plus what `Upstream` has: `api` (one typed function per endpoint, which rejects
 * on every failure), `breakerState()` and `close()`. The gateway itself needs only `Upstream`.
 */
export interface CircleClient extends Upstream {
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
  const upstream = createUpstream(options);
  const { api } = upstream;
  return {
    ...upstream,
    getMemberAPITokenFromCommunityMemberId: (communityMemberId, o) =>
      api.issueMemberToken({ communityMemberId }, o),
    getMemberAPITokenFromEmail: (email, o) => api.issueMemberToken({ email }, o),
    getMemberAPITokenFromSSOId: (ssoId, o) => api.issueMemberToken({ ssoId }, o),
    getMemberAPITokenFromRefreshToken: (refreshToken, o) => api.refreshAccessToken(refreshToken, o),
    revokeRefreshToken: (refreshToken, o) => sdkRevoke(api.revokeRefreshToken(refreshToken, o)),
    revokeMemberAPIToken: (accessToken, o) => sdkRevoke(api.revokeAccessToken(accessToken, o)),
  };
}
