// Small statistics for benchmark samples: percentiles by the nearest-rank method, and a min/median/max spread.

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Returns the nearest-rank percentile `p` (0–100) of `samples`; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const total = samples.reduce((sum, value) => sum + value, 0);
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
    mean: samples.length === 0 ? Number.NaN : total / samples.length,
  };
}

export interface Spread {
  runs: number[];
  min: number;
  median: number;
  max: number;
  /** (max - min) / median, as a fraction. */
  relativeRange: number;
}

export function spreadOf(runs: readonly number[]): Spread {
  const median = percentile(runs, 50);
  const min = Math.min(...runs);
  const max = Math.max(...runs);
  return { runs: [...runs], min, median, max, relativeRange: (max - min) / median };
}

/** Rounds to `digits` decimals, for figures in reports. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
