import type { Conversion } from '@sas/contracts';
import type { Destination } from '@sas/runtime';
import { admit, closedBreaker, msUntilAdmitted, recordResult, type Breaker, type BreakerConfig } from './core/circuitBreaker.js';
import { fullBucket, msUntilToken, partnerDefaultRatePerSec, rateLimitOf, takeTokens, type Bucket, type RateLimit } from './core/rateLimit.js';
import type { LedgerKey } from './adapters/ledger.js';

export interface Job {
  readonly key: LedgerKey;
  readonly keyStr: string;
  readonly conversion: Conversion;
  readonly frame: Buffer;
  readonly destination: Destination;
  readonly needsEmail: boolean;
  /** Sent already and queued by the partner there (ledger queued_uri): check its status instead of sending. */
  readonly follow?: { readonly uri: string };
}

export interface LaneDefaults {
  readonly concurrency: number;
  readonly ratePerSec: number;
  readonly leaseMs: number;
  readonly breaker: BreakerConfig;
}

/**
 * One destination's queue with its own concurrency, token bucket, circuit breaker and
 * Retry-After pause, so a slow or failing partner holds back only itself.
 */
export class Lane {
  private readonly queue: Job[] = [];
  private inflight = 0;
  private bucket: Bucket;
  private breaker: Breaker = closedBreaker;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Moving average of one job's time (fence, request, settle). */
  private latencyMs = 50;
  private limit: RateLimit;
  concurrency: number;

  constructor(
    private destination: Destination,
    private readonly defaults: LaneDefaults,
    /** Sends one job; calls `release` once the partner has answered (or no request will be made). */
    private readonly run: (job: Job, lane: Lane, release: () => void) => Promise<void>,
    private readonly now: () => number,
  ) {
    this.limit = rateLimitOf(destination.settings, partnerDefaultRatePerSec(destination.type, defaults.ratePerSec));
    this.concurrency = this.concurrencyOf(destination);
    this.bucket = fullBucket(this.limit, now());
  }

  private concurrencyOf(d: Destination): number {
    const c = d.settings.concurrency;
    return typeof c === 'number' && c >= 1 ? Math.floor(c) : this.defaults.concurrency;
  }

  /** Settings may change (the cache reloads them): limits follow. */
  update(d: Destination): void {
    if (d === this.destination) return;
    this.destination = d;
    this.limit = rateLimitOf(d.settings, partnerDefaultRatePerSec(d.type, this.defaults.ratePerSec));
    this.concurrency = this.concurrencyOf(d);
  }

  /** How many more jobs this lane takes into memory: what it can send well within a lease. */
  room(): number {
    // What the rate limit and the partner's observed speed get through in half a lease.
    const byRate = (this.limit.ratePerSec * this.defaults.leaseMs) / 2000;
    const bySpeed = (this.concurrency * this.defaults.leaseMs) / (2 * Math.max(1, this.latencyMs));
    const capacity = Math.min(2_000, Math.max(this.concurrency, Math.ceil(Math.min(byRate, bySpeed))));
    return capacity - this.queue.length - this.inflight;
  }

  size(): number {
    return this.queue.length + this.inflight;
  }

  /** Jobs being sent now (the rest of size() waits in the queue). */
  inFlight(): number {
    return this.inflight;
  }

  type(): Destination['type'] {
    return this.destination.type;
  }

  push(job: Job): void {
    this.queue.push(job);
    this.pump();
  }

  /** A partner's answer (healthy: it answered about the request) feeds the breaker; Retry-After pauses the lane. */
  report(healthy: boolean, retryAfterMs: number | null): void {
    const now = this.now();
    this.breaker = recordResult(this.breaker, healthy, now, this.defaults.breaker);
    if (retryAfterMs !== null && retryAfterMs > 0) this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
  }

  /** The circuit is open and its cool-down has not passed (after it, the poller feeds the half-open probe). */
  isOpen(): boolean {
    return msUntilAdmitted(this.breaker, this.now()) > 0;
  }

  private wake(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(1, ms));
  }

  pump(): void {
    while (this.queue.length > 0 && this.inflight < this.concurrency) {
      const now = this.now();
      if (this.pausedUntil > now) return this.wake(this.pausedUntil - now);
      const closedFor = msUntilAdmitted(this.breaker, now);
      if (closedFor > 0) return this.wake(closedFor);
      const want = Math.min(this.queue.length, this.concurrency - this.inflight);
      const peek = takeTokens(this.bucket, this.limit, now, want);
      if (peek.granted === 0) return this.wake(msUntilToken(this.bucket, this.limit, now));
      const a = admit(this.breaker, now, peek.granted);
      this.breaker = a.breaker;
      // Half-open with its probe out: the probe's answer pumps again.
      if (a.allowed === 0) return;
      this.bucket = takeTokens(this.bucket, this.limit, now, a.allowed).bucket;
      const granted = a.allowed;
      for (const job of this.queue.splice(0, granted)) {
        this.inflight++;
        const started = this.now();
        // The slot is the partner's: it is freed when the partner has answered, not after the
        // outcome record and the ledger settle, or the lane's throughput would be concurrency
        // divided by four round trips instead of one request.
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          this.inflight--;
          this.latencyMs = this.latencyMs * 0.9 + (this.now() - started) * 0.1;
          // A probe that ended without an answer (taken over, unsendable) frees the half-open slot.
          if (this.breaker.state === 'half_open') this.breaker = { state: 'half_open', probing: false };
          this.pump();
        };
        void this.run(job, this, release).finally(release);
      }
    }
  }

  /** Jobs still waiting, handed back on shutdown. */
  drainQueue(): Job[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.queue.splice(0);
  }

  idle(): boolean {
    return this.inflight === 0;
  }
}
