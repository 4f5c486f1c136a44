import {
  Counter,
  type Metric,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';

/**
 * Counters and histograms whose updates, on every request, touch plain numbers only; prom-client
 * reads them when Prometheus scrapes. prom-client hashes its label object into a key string on
 * every `inc` or `observe`, and a histogram observation turns the bucket's fractional bound into a
 * property name and allocates a closure, six updates a request. Here an update finds its cell
 * through one `Map` per label (no key built, nothing allocated once the cell exists) and adds to
 * it. It stays because it pays: bench/README.md ("Library or hand-written") has the figures. Label
 * values come in the order of `labelNames`, each always of one type (a status as a number, say):
 * `200` and `'200'` would be two cells printing the same series.
 */
type LabelValue = string | number;

interface Cell {
  /** The cell's label values, by label name: what a scrape prints. */
  labels: Record<string, string>;
}

/** One cell per combination of label values, in nested maps, one level a label (at most three). */
class Cells<C extends Cell> {
  private readonly root = new Map<LabelValue, unknown>();
  /** Every cell, in the order they were first used: what a scrape reads. */
  readonly all: C[] = [];
  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => C,
  ) {
    if (labelNames.length > 3) throw new TypeError(`${labelNames.length} labels: at most 3 are supported`);
  }

  /** The cell for these label values (as many as `labelNames`, in their order), made on first use. */
  get(a?: LabelValue, b?: LabelValue, c?: LabelValue): C {
    switch (this.labelNames.length) {
      case 0:
        return this.leaf(this.root, '', a, b, c);
      case 1:
        return this.leaf(this.root, a as LabelValue, a, b, c);
      case 2:
        return this.leaf(this.level(this.root, a as LabelValue), b as LabelValue, a, b, c);
      default:
        return this.leaf(
          this.level(this.level(this.root, a as LabelValue), b as LabelValue),
          c as LabelValue,
          a,
          b,
          c,
        );
    }
  }

  private level(parent: Map<LabelValue, unknown>, key: LabelValue): Map<LabelValue, unknown> {
    let next = parent.get(key) as Map<LabelValue, unknown> | undefined;
    if (!next) {
      next = new Map();
      parent.set(key, next);
    }
    return next;
  }

  private leaf(
    parent: Map<LabelValue, unknown>,
    key: LabelValue,
    a?: LabelValue,
    b?: LabelValue,
    c?: LabelValue,
  ): C {
    const found = parent.get(key) as C | undefined;
    if (found !== undefined) return found;
    const values = [a, b, c];
    const labels: Record<string, string> = {};
    this.labelNames.forEach((name, i) => {
      labels[name] = String(values[i]);
    });
    const cell = this.make(labels);
    parent.set(key, cell);
    this.all.push(cell);
    return cell;
  }
}

interface TallyConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

/**
 * A prom-client `Counter` fed at scrape time: `inc` adds to a plain number, and the counter's
 * `collect` (run by every scrape) hands what gathered since to prom-client's own `inc`. What
 * Prometheus reads, and the counter's type, help and exposition, are prom-client's.
 */
export function tallyCounter(config: TallyConfig) {
  const cells = new Cells(config.labelNames, (labels) => ({ labels, pending: 0 }));
  const counter = new Counter({
    ...config,
    labelNames: [...config.labelNames],
    collect() {
      for (const cell of cells.all) {
        if (cell.pending === 0) continue;
        this.inc(cell.labels, cell.pending);
        cell.pending = 0;
      }
    },
  });
  return {
    inc(a?: LabelValue, b?: LabelValue, c?: LabelValue): void {
      cells.get(a, b, c).pending += 1;
    },
    /** Present from the first scrape at 0, so dashboards and alerts see zeros rather than no series. */
    zero(a?: LabelValue, b?: LabelValue, c?: LabelValue): void {
      counter.inc(cells.get(a, b, c).labels, 0);
    },
  };
}

interface Buckets extends Cell {
  /** Observations at or below each bound, not cumulative; the last slot holds those above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram kept in plain numbers: an observation finds its bucket and adds to it.
 * prom-client's registry reads it like one of its own (`get()` gives the same values, in the same
 * order, as prom-client's `Histogram`; test/gateway/metrics-tally.test.ts compares the two texts).
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: readonly number[];
  private cells: Cells<Buckets>;
  private readonly labelNames: readonly string[];

  constructor(config: TallyConfig & { buckets?: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    // prom-client's default buckets, for a histogram that names none.
    this.bounds = config.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.cells = this.newCells();
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  private newCells(): Cells<Buckets> {
    return new Cells(this.labelNames, (labels) => ({
      labels,
      counts: new Float64Array(this.bounds.length + 1),
      sum: 0,
      count: 0,
    }));
  }

  observe(seconds: number, a?: LabelValue, b?: LabelValue, c?: LabelValue): void {
    const cell = this.cells.get(a, b, c);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    (cell.counts[i] as number)++;
    cell.sum += seconds;
    cell.count += 1;
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const cell of this.cells.all) {
      const labels = cell.labels;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound, ...labels },
          value: cumulative,
        });
      });
      values.push(
        { metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: cell.count },
        { metricName: `${this.name}_sum`, labels, value: cell.sum },
        { metricName: `${this.name}_count`, labels, value: cell.count },
      );
    }
    return {
      name: this.name,
      help: this.help,
      // prom-client's types declare a numeric enum; its registry prints the string it is given.
      type: this.type as unknown as MetricType,
      aggregator: this.aggregator,
      collect: () => undefined,
      values,
    };
  }

  reset(): void {
    this.cells = this.newCells();
  }
}
