import type { CircuitBreakerConfig } from '../../config/types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { FailureKind } from '../../errors/map-error.js';
import { FailurePolicy } from './failure-policy.js';
import { RollingWindow } from './rolling-window.js';

/** Circuit states; the numbers are the values of the `turnpike_upstream_circuit_state` gauge. */
export const CLOSED = 0;
export const OPEN = 1;
export const HALF_OPEN = 2;
/** A circuit state: {@link CLOSED}, {@link OPEN} or {@link HALF_OPEN}. */
export type CircuitState = typeof CLOSED | typeof OPEN | typeof HALF_OPEN;
/** State names as logs, metrics labels and the admin API show them, by state number. */
export const CIRCUIT_STATE_NAMES = ['closed', 'open', 'half-open'] as const;
/** A state's name. */
export type CircuitStateName = (typeof CIRCUIT_STATE_NAMES)[number];

/** Called on every state change (rare path: logs). */
export type CircuitTransitionListener = (from: CircuitStateName, to: CircuitStateName, reason: string) => void;

/** A breaker's state for the admin API (`GET /upstreams`). */
export interface CircuitSnapshot {
  state: CircuitStateName;
  /** When the breaker entered this state (ms timestamp of the group clock). */
  since: number;
  /** Attempts and failed attempts in the closed state's sliding window. */
  windowRequests: number;
  windowFailures: number;
  /** Failures in a row (closed state). */
  consecutiveFailures: number;
  /** Open: when it goes half-open (ms timestamp); null otherwise. */
  halfOpenAt: number | null;
  /** Half-open: probes let through so far and how many of them succeeded. */
  probes: number;
  probeSuccesses: number;
  /** Transitions so far, by the state entered. */
  transitions: Record<CircuitStateName, number>;
  /** Requests refused because the circuit was open (or half-open with every probe taken). */
  rejected: number;
}

/**
 * One upstream's circuit breaker (per worker).
 *
 * - Closed: every attempt goes through; each outcome counts in a sliding
 *   window (rolling-window.ts). The circuit opens when `consecutiveFailures`
 *   attempts in a row failed (0 disables that trigger), or when the window
 *   holds at least `minRequests` attempts of which at least `failureRate`
 *   failed.
 * - Open: attempts are refused at once (the caller answers 503
 *   `circuit_open` with Retry-After) until `openFor` has passed.
 * - Half-open (entered lazily, by the first admission or state read after
 *   `openFor`): `halfOpenRequests` attempts go through as probes, others are
 *   refused; the circuit closes (fresh window) when every probe succeeded and
 *   reopens on the first probe that failed. A probe that ends without a
 *   verdict (client gone) gives its place back ({@link cancel}).
 *
 * Outcomes are per attempt (each dispatch to the upstream). An attempt
 * carries the breaker's `epoch` from its admission; the epoch changes on
 * every transition, so an outcome from an attempt admitted in an earlier
 * state (e.g. a slow request that started before the circuit opened) is
 * ignored rather than mistaken for a probe.
 *
 * Admission in the closed state is one comparison; recording an outcome is
 * O(1) with no allocation.
 */
export class CircuitBreaker {
  /** Which outcomes are failures. */
  readonly policy: FailurePolicy;
  /** The `circuit_open` problem (built once per upstream). */
  readonly error: GatewayError;
  private readonly config: CircuitBreakerConfig;
  private readonly now: () => number;
  private readonly onTransition: CircuitTransitionListener | undefined;
  private readonly window: RollingWindow;
  private state: CircuitState = CLOSED;
  /** Changes on every transition; attempts carry the value of their admission. */
  private epoch = 0;
  private since: number;
  private openUntil = 0;
  private consecutive = 0;
  private probes = 0;
  private probeSuccesses = 0;
  /** Transitions so far by the state entered (index = state number). */
  readonly transitions = new Float64Array(3);
  /** Requests refused (open, or half-open with every probe taken). */
  rejected = 0;

  /**
   * @param upstream the upstream's name (problem detail)
   * @param config the normalised settings
   * @param now the clock in ms (the group's: `Date.now` unless a test injects one)
   * @param onTransition state changes, for logs
   */
  constructor(upstream: string, config: CircuitBreakerConfig, now: () => number, onTransition?: CircuitTransitionListener) {
    this.config = config;
    this.now = now;
    this.onTransition = onTransition;
    this.policy = new FailurePolicy(config.failOn);
    this.window = new RollingWindow(config.windowMs);
    this.since = now();
    this.error = new GatewayError(ErrorCodes.CIRCUIT_OPEN, 'The circuit breaker of upstream "' + upstream + '" is open');
  }

  /**
   * Whether a request would be refused right now, without taking a probe
   * place (checked before a request waits for a concurrency slot). Counts
   * the refusal when it says yes: the caller then refuses.
   */
  rejects(): boolean {
    if (this.state === CLOSED) return false;
    const refuse = this.state === OPEN ? this.now() < this.openUntil : this.probes >= this.config.halfOpenRequests;
    if (refuse) this.rejected++;
    return refuse;
  }

  /**
   * Admits one attempt: its epoch (≥ 0) to pass to {@link record} or
   * {@link cancel}, or -1 when the circuit refuses it (counted).
   */
  admit(): number {
    // why: the closed state, by far the most common, needs neither the clock nor a write.
    if (this.state === CLOSED) return this.epoch;
    if (this.state === OPEN) {
      const now = this.now();
      if (now < this.openUntil) { this.rejected++; return -1; }
      this.enter(HALF_OPEN, now, 'openFor elapsed');
    }
    if (this.probes >= this.config.halfOpenRequests) { this.rejected++; return -1; }
    this.probes++;
    return this.epoch;
  }

  /** Whole seconds a refused client should wait (Retry-After): until half-open when open, else 1. */
  retryAfterSeconds(): number {
    if (this.state !== OPEN) return 1;
    return Math.max(1, Math.ceil((this.openUntil - this.now()) / 1000));
  }

  /** Records the outcome of an attempt that got a response with `status`. */
  recordStatus(epoch: number, status: number): void {
    this.record(epoch, this.policy.statusFails(status));
  }

  /** Records the outcome of an attempt that failed before its response head (`kind` from failureKind). */
  recordError(epoch: number, kind: FailureKind): void {
    this.record(epoch, this.policy.errorFails(kind));
  }

  /** Records an attempt's outcome; ignored when it was admitted in an earlier state. */
  record(epoch: number, failed: boolean): void {
    if (epoch !== this.epoch) return;
    if (this.state === CLOSED) {
      const now = this.now();
      const w = this.window;
      w.add(now, failed);
      if (!failed) { this.consecutive = 0; return; }
      this.consecutive++;
      const c = this.config;
      if (c.consecutiveFailures > 0 && this.consecutive >= c.consecutiveFailures) {
        this.enter(OPEN, now, this.consecutive + ' consecutive failures');
      } else if (w.total >= c.minRequests && w.failures * 100 >= c.failureRatePercent * w.total) {
        this.enter(OPEN, now, w.failures + ' of ' + w.total + ' attempts failed within ' + c.windowMs + ' ms');
      }
    } else if (this.state === HALF_OPEN) {
      if (failed) this.enter(OPEN, this.now(), 'a half-open probe failed');
      else if (++this.probeSuccesses >= this.config.halfOpenRequests) {
        this.enter(CLOSED, this.now(), this.probeSuccesses + ' half-open probes succeeded');
      }
    }
  }

  /** An admitted attempt ended without a verdict (client gone, body refused): a probe gives its place back. */
  cancel(epoch: number): void {
    if (epoch === this.epoch && this.state === HALF_OPEN && this.probes > 0) this.probes--;
  }

  /** The current state, after the lazy open → half-open move when `openFor` has passed. */
  current(): CircuitState {
    if (this.state === OPEN) {
      const now = this.now();
      if (now >= this.openUntil) this.enter(HALF_OPEN, now, 'openFor elapsed');
    }
    return this.state;
  }

  /** The state for the admin API. */
  snapshot(): CircuitSnapshot {
    const state = this.current();
    this.window.advance(this.now());
    const t = this.transitions;
    return {
      state: CIRCUIT_STATE_NAMES[state],
      since: this.since,
      windowRequests: this.window.total,
      windowFailures: this.window.failures,
      consecutiveFailures: this.consecutive,
      halfOpenAt: state === OPEN ? this.openUntil : null,
      probes: state === HALF_OPEN ? this.probes : 0,
      probeSuccesses: state === HALF_OPEN ? this.probeSuccesses : 0,
      transitions: { closed: t[CLOSED], open: t[OPEN], 'half-open': t[HALF_OPEN] },
      rejected: this.rejected,
    };
  }

  private enter(to: CircuitState, now: number, reason: string): void {
    const from = this.state;
    this.state = to;
    this.epoch++;
    this.since = now;
    this.transitions[to]++;
    this.probes = 0;
    this.probeSuccesses = 0;
    if (to === OPEN) this.openUntil = now + this.config.openForMs;
    else if (to === CLOSED) {
      this.window.reset();
      this.consecutive = 0;
    }
    if (this.onTransition !== undefined) this.onTransition(CIRCUIT_STATE_NAMES[from], CIRCUIT_STATE_NAMES[to], reason);
  }
}
