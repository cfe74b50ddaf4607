/**
 * `turnpike_consumer_requests_total{consumer, route}`: requests answered per
 * identified consumer (its id, never a credential) and route. Cardinality is
 * bounded: the configured consumer ids, plus at most
 * {@link TOKEN_CONSUMER_CAP} other ids per worker (ids from tokens, which the
 * config does not list), beyond which requests count as `(other)`; times the
 * routes.
 */

/** Most consumer ids outside the config one worker gives a series of their own. */
export const TOKEN_CONSUMER_CAP = 100;

/** The label of consumers over the cap (consumers-config.ts reserves it). */
export const OTHER_CONSUMER = '(other)';

/** One (consumer, route) counter cell; labels built once. */
interface ConsumerCell {
  value: number;
  readonly labels: { consumer: string; route: string };
}

/** The cells of one consumer label, by route slot (route index + 1; slot 0 = no route). */
class ConsumerSeries {
  readonly cells: Array<ConsumerCell | undefined> = [];
  constructor(readonly consumer: string) {}
}

/**
 * Plain-number storage behind the counter, exported to prom-client as a
 * custom metric (see metrics.ts): a request costs one Map lookup and an
 * increment, never prom-client's per-call label hashing.
 */
export class ConsumerStore {
  private readonly series = new Map<string, ConsumerSeries>();

  /** The series of a consumer label, created on first use. */
  consumer(label: string): ConsumerSeries {
    let s = this.series.get(label);
    if (s === undefined) {
      s = new ConsumerSeries(label);
      this.series.set(label, s);
    }
    return s;
  }

  /** Counter values in prom-client JSON form. */
  counterValues(): Array<{ value: number; labels: Record<string, string> }> {
    const out: Array<{ value: number; labels: Record<string, string> }> = [];
    for (const s of this.series.values()) {
      for (const cell of s.cells) if (cell !== undefined) out.push({ value: cell.value, labels: cell.labels });
    }
    return out;
  }

  /** Forgets every recorded value. */
  reset(): void {
    this.series.clear();
  }
}

/**
 * The per-request recorder for one compiled config: the configured ids are
 * known up front; other ids are admitted until the cap, then counted as
 * {@link OTHER_CONSUMER}.
 */
export class ConsumerRecorder {
  private readonly known = new Map<string, ConsumerSeries>();
  /** Route labels by slot (slot 0 = no route). */
  private readonly routes: readonly string[];
  private admitted = 0;

  /**
   * @param routeLabels route names with the no-route label first (slot = route index + 1).
   * @param consumerIds the configured consumer ids.
   */
  constructor(private readonly store: ConsumerStore, routeLabels: readonly string[], consumerIds: readonly string[],
    private readonly cap = TOKEN_CONSUMER_CAP) {
    this.routes = routeLabels;
    for (const id of consumerIds) this.known.set(id, store.consumer(id));
  }

  /** Counts one finished request of consumer `id` on route `routeIndex` (-1 = none). */
  observe(routeIndex: number, id: string): void {
    let s = this.known.get(id);
    if (s === undefined) s = this.admit(id);
    const slot = routeIndex + 1 < this.routes.length ? routeIndex + 1 : 0;
    let cell = s.cells[slot];
    if (cell === undefined) {
      cell = { value: 0, labels: { consumer: s.consumer, route: this.routes[slot] } };
      s.cells[slot] = cell;
    }
    cell.value++;
  }

  /** A consumer id outside the config: its own series until the cap, then `(other)`. */
  private admit(id: string): ConsumerSeries {
    if (this.admitted >= this.cap) return this.store.consumer(OTHER_CONSUMER);
    this.admitted++;
    const s = this.store.consumer(id);
    this.known.set(id, s);
    return s;
  }
}
