import { randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { SandboxMember } from './members.js';

/**
 * Circle's Headless Auth API as a pure request handler: the same paths, methods, statuses, error
 * bodies (the OpenAPI file's message texts) and token formats. Transport, faults and stats live in
 * server.ts. Where the upstream is ambiguous (see CIRCLE-AUTH-API.md, open questions) the choice
 * made here is the stricter one, so a client that copes with the sandbox copes with Circle.
 */

export const messages = {
  unauthorized: 'Your account could not be authenticated.',
  forbidden: "Your community isn't eligible for headless API access. Please upgrade or contact support",
  memberNotFound:
    'Community member not found. Please provide a valid SSO User ID, community member ID, or email.',
  missingParameter: 'Oops! Missing parameter. Please try again later.',
  refreshNotFound: 'Refresh token not found.',
  refreshInvalidType: 'Invalid refresh token.',
  refreshExpired: 'The refresh token is expired. Please generate/get new auth token.',
  refreshTooEarly: 'The access token has not expired yet.',
  accessInvalid: 'The access token is invalid.',
  accessExpired: 'The access token is expired.',
  accessNotFound: 'The access token not found.',
  communityNotFound: 'Community associated with the access token not found.',
  memberOfTokenNotFound: 'Community member associated with the access token not found.',
} as const;

const ACCESS_TOKEN_TTL_MS = 60 * 60 * 1000;
const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface Clock {
  now(): number;
}

export interface SimulatorOptions {
  appToken: string;
  /** A token Circle knows but refuses for headless use (an Admin API token): answered 403. */
  adminToken: string;
  communityId: number;
  members: readonly SandboxMember[];
  clock: Clock;
  /** Key for the HS256 access tokens. Default: 32 random bytes. */
  jwtSecret?: Uint8Array;
  /**
   * Most refresh tokens (and revoked access-token ids) kept; past it the oldest are forgotten and
   * then answer as unknown, as revoked ones do. Keeps a long benchmark's memory bounded. Default 200000.
   */
  maxStoredTokens?: number;
  /**
   * Circle leaves open whether a second mint for a member returns the refresh token it already
   * issued: `true` answers the member's live refresh token again (with its expiry); default `false`,
   * a new one each time.
   */
  reuseRefreshTokens?: boolean;
  /**
   * Circle leaves open whether a refresh is accepted before the access token has expired: `true`
   * refuses (422) a refresh while the access token last minted from that refresh token lives;
   * default `false`, a refresh works at any time.
   */
  refuseEarlyRefresh?: boolean;
  /** Access tokens' lifetime; default Circle's hour (benchmarks shorten it to scale time). */
  accessTokenTtlMs?: number;
}

export interface SimRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

export interface SimResponse {
  status: number;
  body?: unknown;
}

interface RefreshRecord {
  memberId: number;
  expiresAt: number;
  revoked: boolean;
  /** When the access token last minted from it expires. */
  accessExpiresAt: number;
}

/** What the sandbox knows of a token, for tests that check a revocation happened. */
export type TokenState = 'live' | 'revoked' | 'expired' | 'unknown';

const error = (status: number, message: string, detail?: string): SimResponse => ({
  status,
  body: { success: false, message, error_details: detail === undefined ? {} : { message: detail } },
});

/** Makes room for one more entry, forgetting the oldest (Maps and Sets keep insertion order). */
function remember(store: Map<string, unknown> | Set<string>, max = 200_000): void {
  if (store.size < max) return;
  const oldest = store.keys().next().value;
  if (oldest !== undefined) store.delete(oldest);
}

const missing = (parameter: string) =>
  error(404, messages.missingParameter, `Missing parameter: ${parameter}`);

export class Simulator {
  private readonly byId = new Map<number, SandboxMember>();
  private readonly byEmail = new Map<string, SandboxMember>();
  private readonly bySso = new Map<string, SandboxMember>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly revokedJtis = new Set<string>();
  /** The refresh token last minted for each member (reuseRefreshTokens). */
  private readonly latestRefresh = new Map<number, string>();
  private readonly secret: Uint8Array;

  constructor(private readonly options: SimulatorOptions) {
    this.secret = options.jwtSecret ?? randomBytes(32);
    for (const member of options.members) this.addMember(member);
  }

  addMember(member: SandboxMember): void {
    this.byId.set(member.id, member);
    this.byEmail.set(member.email.toLowerCase(), member);
    this.bySso.set(member.ssoId, member);
  }

  /** Removes a member (its tokens then fail as Circle's do for a deleted member). */
  removeMember(id: number): void {
    const member = this.byId.get(id);
    if (!member) return;
    this.byId.delete(id);
    this.byEmail.delete(member.email.toLowerCase());
    this.bySso.delete(member.ssoId);
  }

  get members(): SandboxMember[] {
    return [...this.byId.values()];
  }

  /** Every refresh token issued and still remembered (tests: what must never show up elsewhere). */
  issuedRefreshTokens(): string[] {
    return [...this.refreshTokens.keys()];
  }

  /** Whether a refresh token is live, revoked, expired or unknown here (tests). */
  refreshTokenState(token: string): TokenState {
    const record = this.refreshTokens.get(token);
    if (!record) return 'unknown';
    if (record.revoked) return 'revoked';
    return record.expiresAt <= this.options.clock.now() ? 'expired' : 'live';
  }

  /** Whether an access token is live, revoked, expired or unknown here (tests). */
  async accessTokenState(token: string): Promise<TokenState> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        currentDate: new Date(this.options.clock.now()),
      });
      return this.revokedJtis.has(String(payload.jti)) ? 'revoked' : 'live';
    } catch (failure) {
      return failure instanceof joseErrors.JWTExpired ? 'expired' : 'unknown';
    }
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    const route = `${req.method} ${req.path}`;
    const handler = this.routes[route];
    if (!handler) return { status: 404, body: { success: false, message: 'Not found.', error_details: {} } };
    const bearer = /^Bearer (.+)$/.exec(req.authorization ?? '')?.[1];
    if (bearer === this.options.adminToken) return error(403, messages.forbidden);
    if (bearer !== this.options.appToken) return error(401, messages.unauthorized);
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = req.body === '' ? {} : JSON.parse(req.body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      // Circle's behaviour for malformed JSON is undocumented; answered as a missing parameter.
    }
    return handler(body);
  }

  private readonly routes: Record<string, (body: Record<string, unknown>) => Promise<SimResponse>> = {
    'POST /api/v1/headless/auth_token': (body) => this.authToken(body),
    'PATCH /api/v1/headless/access_token/refresh': async (body) => this.refresh(body),
    'POST /api/v1/headless/refresh_token/revoke': async (body) => this.revokeRefresh(body),
    'POST /api/v1/headless/access_token/revoke': (body) => this.revokeAccess(body),
  };

  private findMember(body: Record<string, unknown>): SandboxMember | 'missing' | undefined {
    // Circle's documented priority: SSO id, then member id, then email. `sso_id` is the docs' prose name.
    const sso = body.sso_user_id ?? body.sso_id;
    if (sso !== undefined && sso !== null && sso !== '') return this.bySso.get(String(sso));
    const id = body.community_member_id;
    if (id !== undefined && id !== null && id !== '') {
      const numeric = typeof id === 'number' ? id : /^\d+$/.test(String(id)) ? Number(id) : Number.NaN;
      return this.byId.get(numeric);
    }
    const email = body.email;
    if (typeof email === 'string' && email !== '') return this.byEmail.get(email.toLowerCase());
    return 'missing';
  }

  private async authToken(body: Record<string, unknown>): Promise<SimResponse> {
    const member = this.findMember(body);
    if (member === 'missing') return missing('sso_user_id, community_member_id or email');
    if (!member) return error(404, messages.memberNotFound);
    const now = this.options.clock.now();
    const access = await this.mintAccessToken(member, now);
    let refreshToken = randomBytes(32).toString('base64url');
    let record: RefreshRecord = {
      memberId: member.id,
      expiresAt: now + REFRESH_TOKEN_TTL_MS,
      revoked: false,
      accessExpiresAt: access.expiresAt,
    };
    const earlier = this.options.reuseRefreshTokens ? this.latestRefresh.get(member.id) : undefined;
    const reused = earlier === undefined ? undefined : this.refreshTokens.get(earlier);
    if (earlier !== undefined && reused && !reused.revoked && reused.expiresAt > now) {
      refreshToken = earlier;
      record = reused;
      record.accessExpiresAt = access.expiresAt;
    } else {
      remember(this.refreshTokens, this.options.maxStoredTokens);
      this.refreshTokens.set(refreshToken, record);
      this.latestRefresh.set(member.id, refreshToken);
    }
    const refreshExpiresAt = record.expiresAt;
    return {
      status: 200,
      body: {
        access_token: access.token,
        refresh_token: refreshToken,
        access_token_expires_at: new Date(access.expiresAt).toISOString(),
        refresh_token_expires_at: new Date(refreshExpiresAt).toISOString(),
        community_member_id: member.id,
        community_id: this.options.communityId,
      },
    };
  }

  private async mintAccessToken(member: SandboxMember, now: number) {
    // Circle's exp is in whole seconds; the *_expires_at field carries milliseconds.
    const expiresAt = now + (this.options.accessTokenTtlMs ?? ACCESS_TOKEN_TTL_MS);
    const token = await new SignJWT({
      community_id: this.options.communityId,
      community_member_id: member.id,
      sso_user_id: member.ssoId,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.secret);
    return { token, expiresAt };
  }

  private lookupRefresh(body: Record<string, unknown>): SimResponse | RefreshRecord {
    const token = body.refresh_token;
    if (token === undefined || token === null || token === '') return missing('refresh_token');
    if (typeof token !== 'string') return error(404, messages.refreshInvalidType);
    const record = this.refreshTokens.get(token);
    if (!record || record.revoked) return error(404, messages.refreshNotFound);
    if (record.expiresAt <= this.options.clock.now()) return error(401, messages.refreshExpired);
    return record;
  }

  private async refresh(body: Record<string, unknown>): Promise<SimResponse> {
    const record = this.lookupRefresh(body);
    if ('status' in record) return record;
    const member = this.byId.get(record.memberId);
    if (!member) return error(404, messages.refreshNotFound);
    const now = this.options.clock.now();
    if (this.options.refuseEarlyRefresh && record.accessExpiresAt > now)
      return error(422, messages.refreshTooEarly);
    // The refresh token is not rotated: it stays valid until it expires or is revoked.
    const access = await this.mintAccessToken(member, now);
    record.accessExpiresAt = access.expiresAt;
    return {
      status: 200,
      body: { access_token: access.token, access_token_expires_at: new Date(access.expiresAt).toISOString() },
    };
  }

  private revokeRefresh(body: Record<string, unknown>): SimResponse {
    const record = this.lookupRefresh(body);
    if ('status' in record) return record;
    // Access tokens minted earlier stay valid: Circle does not cascade.
    record.revoked = true;
    return { status: 204 };
  }

  private async revokeAccess(body: Record<string, unknown>): Promise<SimResponse> {
    const token = body.access_token;
    if (typeof token !== 'string' || token === '') return missing('access_token');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        currentDate: new Date(this.options.clock.now()),
      }));
    } catch (failure) {
      if (failure instanceof joseErrors.JWTExpired) return error(422, messages.accessExpired);
      return error(422, messages.accessInvalid);
    }
    const jti = typeof payload.jti === 'string' ? payload.jti : '';
    if (payload.community_id !== this.options.communityId) return error(422, messages.communityNotFound);
    if (!this.byId.has(Number(payload.community_member_id)))
      return error(422, messages.memberOfTokenNotFound);
    if (this.revokedJtis.has(jti)) return error(422, messages.accessNotFound);
    remember(this.revokedJtis, this.options.maxStoredTokens);
    this.revokedJtis.add(jti);
    return { status: 204 };
  }
}
