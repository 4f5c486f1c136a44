import { z } from 'zod';
import { InvalidInputError } from './errors.js';

/**
 * Argument checks run before any network call. Limits are generous enough for every token Circle
 * documents (a JWT of a few hundred characters, a 43-character refresh token) and tight enough that
 * nothing pathological is ever sent. Messages name the argument and never echo its value.
 */

export const limits = {
  /** RFC 5321 caps a forward path at 256 octets; an address is at most 254. */
  emailMaxLength: 254,
  ssoIdMaxLength: 255,
  tokenMaxLength: 4096,
} as const;

const emailSchema = z.email();
// Printable ASCII without spaces: what JWTs and URL-safe base64 are made of, with room to spare.
const tokenPattern = /^[\x21-\x7e]+$/;
// Control characters have no business in an identifier and are a log-injection risk.
const controlChars = /\p{Cc}/u;

export function checkMemberId(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(argument, 'expected a positive integer');
  }
  return value;
}

export function checkEmail(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(argument, 'expected a non-empty email address');
  }
  if (value.length > limits.emailMaxLength) {
    throw new InvalidInputError(argument, `expected at most ${limits.emailMaxLength} characters`);
  }
  if (!emailSchema.safeParse(value).success) {
    throw new InvalidInputError(argument, 'expected an email address like name@example.com');
  }
  return value;
}

export function checkSsoId(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InvalidInputError(argument, 'expected a non-empty string');
  }
  if (value.length > limits.ssoIdMaxLength) {
    throw new InvalidInputError(argument, `expected at most ${limits.ssoIdMaxLength} characters`);
  }
  if (controlChars.test(value)) {
    throw new InvalidInputError(argument, 'control characters are not allowed');
  }
  return value;
}

export function checkToken(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(argument, 'expected a non-empty token');
  }
  if (value.length > limits.tokenMaxLength) {
    throw new InvalidInputError(argument, `expected at most ${limits.tokenMaxLength} characters`);
  }
  if (!tokenPattern.test(value)) {
    throw new InvalidInputError(argument, 'expected printable ASCII without spaces');
  }
  return value;
}
