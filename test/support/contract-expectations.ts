/**
 * What the client makes of every documented answer, keyed `METHOD path status example`.
 * `ok` means the call resolves; anything else is the error `code` it rejects with.
 * The contract test fails when the OpenAPI file documents an answer missing from this table.
 */
export const expectations: Record<string, string> = {
  'POST /api/v1/headless/auth_token 200 success': 'ok',
  'POST /api/v1/headless/auth_token 401 unauthorized': 'APP_TOKEN_REJECTED',
  'POST /api/v1/headless/auth_token 403 forbidden': 'NOT_ELIGIBLE',
  'POST /api/v1/headless/auth_token 404 member_not_found': 'MEMBER_NOT_FOUND',
  'POST /api/v1/headless/auth_token 422 unprocessable_entity': 'UNPROCESSABLE',
  'PATCH /api/v1/headless/access_token/refresh 200 success': 'ok',
  'PATCH /api/v1/headless/access_token/refresh 200 access_token_not_required': 'ok',
  'PATCH /api/v1/headless/access_token/refresh 404 not_found_error': 'INVALID_TOKEN',
  'PATCH /api/v1/headless/access_token/refresh 401 refresh_token_expired_error': 'TOKEN_EXPIRED',
  'PATCH /api/v1/headless/access_token/refresh 422 access_token_generation_failed': 'UNPROCESSABLE',
  'PATCH /api/v1/headless/access_token/refresh 403 forbidden': 'NOT_ELIGIBLE',
  'POST /api/v1/headless/access_token/revoke 204 success': 'ok',
  'POST /api/v1/headless/access_token/revoke 422 invalid_access_token_error': 'INVALID_TOKEN',
  'POST /api/v1/headless/access_token/revoke 422 access_token_expired_error': 'TOKEN_EXPIRED',
  'POST /api/v1/headless/access_token/revoke 422 revoked_access_token_error': 'INVALID_TOKEN',
  'POST /api/v1/headless/access_token/revoke 422 community_not_found_error': 'INVALID_TOKEN',
  'POST /api/v1/headless/access_token/revoke 422 community_member_not_found_error': 'INVALID_TOKEN',
  'POST /api/v1/headless/access_token/revoke 401 unauthorized': 'APP_TOKEN_REJECTED',
  'POST /api/v1/headless/access_token/revoke 403 forbidden': 'NOT_ELIGIBLE',
  'POST /api/v1/headless/access_token/revoke 404 missing_parameter': 'INVALID_INPUT',
  'POST /api/v1/headless/access_token/revoke 404 invalid_access_token_type': 'INVALID_INPUT',
  'POST /api/v1/headless/refresh_token/revoke 204 success': 'ok',
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token': 'INVALID_TOKEN',
  'POST /api/v1/headless/refresh_token/revoke 404 missing_refresh_token': 'INVALID_INPUT',
  'POST /api/v1/headless/refresh_token/revoke 404 invalid_refresh_token_type': 'INVALID_TOKEN',
  'POST /api/v1/headless/refresh_token/revoke 401 unauthorized': 'APP_TOKEN_REJECTED',
  'POST /api/v1/headless/refresh_token/revoke 401 refresh_token_expired': 'TOKEN_EXPIRED',
  'POST /api/v1/headless/refresh_token/revoke 403 forbidden': 'NOT_ELIGIBLE',
  'POST /api/v1/headless/refresh_token/revoke 422 unprocessable_entity': 'UNPROCESSABLE',
};
