export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The q-quantile (0..1) of the values, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Quantiles of a Prometheus histogram (cumulative `_bucket` series summed over labels), by linear interpolation. */
export function histogramQuantile(metrics: string, name: string, q: number): number | undefined {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)`, 'gm');
  for (const match of metrics.matchAll(pattern)) {
    const le = /le="([^"]+)"/.exec(match[1])?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return bucketQuantile(
    [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    q,
  );
}

/** The q-quantile of cumulative histogram buckets ([upper bound, count], sorted by bound), by linear interpolation. */
export function bucketQuantile(sorted: Array<[number, number]>, q: number): number | undefined {
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return previousBound;
      const inBucket = count - previousCount;
      return inBucket === 0 ? bound : previousBound + ((rank - previousCount) / inBucket) * (bound - previousBound);
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

/** The `_count` of a Prometheus histogram or counter summed over its labels. */
export function metricSum(metrics: string, name: string): number {
  let sum = 0;
  for (const match of metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'gm'))) sum += Number(match[1]);
  return sum;
}

/** The least-squares slope of y over x; NaN with fewer than two points or no spread in x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
