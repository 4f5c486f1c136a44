import type { CredentialKind } from '../domain/types.js';
import type { AuditLog } from './index.js';

export interface RefusalAuditOptions {
  audit: AuditLog;
  /** Events recorded one by one per source and window; the rest of the window becomes one summary. */
  perSource?: number;
  windowMs?: number;
  /** Sources followed at once; past it the oldest window is summed up early (a flood from many addresses). */
  maxSources?: number;
  now?: () => number;
}

export interface RefusalAudit {
  /** A credential refused, from `address` (hashed here, never written). */
  refused(
    refusal: { credential: CredentialKind; reason: string },
    address: string,
    requestId: string | undefined,
  ): void;
  /** Writes the summaries of every window open now (shutdown). */
  flush(): void;
}

interface Window {
  startedAt: number;
  recorded: number;
  suppressed: number;
  /** The last suppressed refusal: what the summary names. */
  credential: CredentialKind;
  reason: string;
}

/**
 * `auth.refused` audit events, bounded per source: the first `perSource` refusals of a client
 * address in a window are recorded one by one; past that, the window's remaining refusals become
 * one summary event with their count (`suppressed`), written when the window ends (or when the
 * source comes back after it). A flood can neither fill the disk nor hide among the lines: it is
 * one line per source and minute, with a count.
 */
export function createRefusalAudit(options: RefusalAuditOptions): RefusalAudit {
  const { audit } = options;
  const perSource = options.perSource ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  const maxSources = options.maxSources ?? 10_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();

  function summarize(source: string, window: Window): void {
    if (window.suppressed === 0) return;
    audit.record({
      event: 'auth.refused',
      credential: window.credential,
      reason: window.reason,
      source,
      suppressed: window.suppressed,
      windowS: Math.round(windowMs / 1000),
    });
  }

  function closeEnded(at: number): void {
    for (const [source, window] of windows) {
      if (at - window.startedAt < windowMs) break; // insertion order: the rest started later
      windows.delete(source);
      summarize(source, window);
    }
  }

  const timer = setInterval(() => closeEnded(now()), Math.min(windowMs, 10_000));
  timer.unref();

  return {
    refused(refusal, address, requestId) {
      const at = now();
      closeEnded(at);
      const source = audit.hash(`ADDRESS:${address}`);
      let window = windows.get(source);
      if (!window) {
        if (windows.size >= maxSources) {
          const [oldest, first] = windows.entries().next().value as [string, Window];
          windows.delete(oldest);
          summarize(oldest, first);
        }
        window = { startedAt: at, recorded: 0, suppressed: 0, ...refusal };
        windows.set(source, window);
      }
      if (window.recorded < perSource) {
        window.recorded += 1;
        audit.record({ event: 'auth.refused', ...refusal, source, ...(requestId ? { requestId } : {}) });
        return;
      }
      window.suppressed += 1;
      window.credential = refusal.credential;
      window.reason = refusal.reason;
    },
    flush() {
      clearInterval(timer);
      for (const [source, window] of windows) summarize(source, window);
      windows.clear();
    },
  };
}
