import type { Sessions } from './index.js';

/** What one request's resolvers get of sessions (the context's `sessions`): none when SESSIONS=off. */
export interface RequestSessions {
  readonly mode: 'on' | 'required';
  readonly service: Sessions;
  /**
   * Why this request may not start a session (the browser rules: `x-circle-csrf: 1`, an `Origin`
   * in CORS_ORIGINS), as a message; `undefined` when it may. Asked by `startSession` alone.
   */
  browserRefusal(): string | undefined;
  /** Sets the session cookie on the response. */
  setCookie(value: string, maxAgeS: number): void;
  /** Clears the session cookie on the response. */
  clearCookie(): void;
}
