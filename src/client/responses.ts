import { z } from 'zod';
import {
  AppTokenRejectedError,
  type CircleError,
  ContractViolationError,
  InvalidInputError,
  InvalidTokenError,
  MemberNotFoundError,
  NotEligibleError,
  RateLimitedError,
  ServerFaultError,
  TokenExpiredError,
  UnprocessableError,
} from './errors.js';

/** The four upstream endpoints, by the operation they perform. */
export type Endpoint = 'authToken' | 'refresh' | 'revokeRefresh' | 'revokeAccess';

const timestamp = z.iso.datetime({ offset: true });
const token = z.string().min(1);
const id = z.number().int().min(1);

/** `headless_auth_token` of the OpenAPI file, every field required. */
export const memberTokenSchema = z.object({
  access_token: token,
  refresh_token: token,
  access_token_expires_at: timestamp,
  refresh_token_expires_at: timestamp,
  community_member_id: id,
  community_id: id,
});

/** `refreshed_access_token` of the OpenAPI file. */
export const refreshedAccessTokenSchema = z.object({
  access_token: token,
  access_token_expires_at: timestamp,
});

/** `error_response` of the OpenAPI file; only `message` is relied on. */
const errorBodySchema = z.object({
  success: z.literal(false).optional(),
  message: z.string(),
  error_details: z.object({ message: z.string().optional() }).loose().nullable().optional(),
});

export type MemberAPIToken = z.infer<typeof memberTokenSchema>;
export type RefreshedAccessToken = z.infer<typeof refreshedAccessTokenSchema>;

export interface UpstreamResponse {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Parses a 2xx body with `schema`, or says exactly which contract rule it broke (field names only). */
export function parseSuccess<T>(schema: z.ZodType<T>, response: UpstreamResponse): T {
  const json = parseJson(response.body);
  if (json === undefined) {
    throw new ContractViolationError(`status ${response.status} with a body that is not JSON`, {
      status: response.status,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(body)'))];
    throw new ContractViolationError(`invalid or missing ${fields.join(', ')}`, { status: response.status });
  }
  return parsed.data;
}

/**
 * Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), or undefined when the
 * header is absent or unreadable.
 */
function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const missingParameter = /missing parameter/i;

/**
 * Maps a non-2xx answer to the error taxonomy. Circle reuses statuses across causes (401 is both a
 * bad app token and an expired refresh token; 422 on access-token revoke is five different things),
 * so the documented message texts disambiguate where the status alone cannot.
 */
export function mapErrorResponse(
  endpoint: Endpoint,
  response: UpstreamResponse,
  defaultRetryAfterSeconds: number,
): CircleError {
  const { status } = response;
  if (status === 429) {
    return new RateLimitedError(parseRetryAfter(response.retryAfter) ?? defaultRetryAfterSeconds, { status });
  }
  const parsed = errorBodySchema.safeParse(parseJson(response.body));
  if (!parsed.success) {
    return new ContractViolationError(`status ${status} without Circle's JSON error body`, { status });
  }
  const upstreamMessage = parsed.data.message;
  const detail = parsed.data.error_details?.message ?? '';
  const details = { status, upstreamMessage };
  const missing = missingParameter.test(upstreamMessage) || missingParameter.test(detail);

  if (status >= 500) return new ServerFaultError(details);
  switch (status) {
    case 401:
      if ((endpoint === 'refresh' || endpoint === 'revokeRefresh') && /expired/i.test(upstreamMessage)) {
        return new TokenExpiredError('refresh', details);
      }
      return new AppTokenRejectedError(details);
    case 403:
      return new NotEligibleError(details);
    case 404:
      if (missing) return new InvalidInputError(argumentOf(endpoint), 'Circle reported it missing', details);
      return endpoint === 'authToken'
        ? new MemberNotFoundError(details)
        : new InvalidTokenError(endpoint === 'revokeAccess' ? 'access' : 'refresh', details);
    case 422:
      if (endpoint === 'revokeAccess') {
        if (/expired/i.test(upstreamMessage)) return new TokenExpiredError('access', details);
        if (/invalid|not found/i.test(upstreamMessage)) return new InvalidTokenError('access', details);
      }
      return new UnprocessableError(details);
    default:
      return new ContractViolationError(`undocumented status ${status}`, details);
  }
}

function argumentOf(endpoint: Endpoint): string {
  switch (endpoint) {
    case 'authToken':
      return 'identifier';
    case 'revokeAccess':
      return 'accessToken';
    default:
      return 'refreshToken';
  }
}
