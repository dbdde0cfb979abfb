/**
 * Rate-limited logging: a client that can make the daemon fail on purpose (every 500 used to
 * write a 1.3 KB stack trace) must not be able to fill the disk or drown the log. Each key (an
 * error code, a reason) gets at most `limit` lines per window; the next line after a quiet spell
 * says how many were suppressed. Counting stays exact: metrics see every event.
 */
import type { Logger } from 'pino';

/** At most `limit` lines per `windowMs` per key; counts what it suppresses. */
export class LogRateLimiter {
  private readonly state = new Map<string, { windowStart: number; count: number; suppressed: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** null: do not log. A number: log, and report this many lines suppressed before this one. */
  take(key: string): number | null {
    const now = this.now();
    const s = this.state.get(key);
    if (!s || now - s.windowStart >= this.windowMs) {
      // Keys are codes and reasons (a few dozen); the map is bounded anyway.
      if (!s && this.state.size >= 1024) this.state.clear();
      this.state.set(key, { windowStart: now, count: 1, suppressed: 0 });
      return s?.suppressed ?? 0;
    }
    if (s.count < this.limit) {
      s.count++;
      const suppressed = s.suppressed;
      s.suppressed = 0;
      return suppressed;
    }
    s.suppressed++;
    return null;
  }
}

/** Default: 5 lines per key per 10 s. */
export const ERROR_LOG_LIMIT = 5;
export const ERROR_LOG_WINDOW_MS = 10_000;

/** An error logger with a per-key budget (`[key]` is usually the error code). */
export class RateLimitedLog {
  private readonly limiter: LogRateLimiter;

  constructor(
    private readonly logger: Logger,
    limit = ERROR_LOG_LIMIT,
    windowMs = ERROR_LOG_WINDOW_MS,
    now?: () => number,
  ) {
    this.limiter = new LogRateLimiter(limit, windowMs, now);
  }

  error(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.limiter.take(key);
    if (suppressed === null) return;
    this.logger.error(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.limiter.take(key);
    if (suppressed === null) return;
    this.logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
