/**
 * Latencies in log-spaced buckets (64 per doubling, as chatload keeps them): constant memory
 * however many messages a run delivers, percentiles within about 1%.
 */
const BUCKETS = 2048;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  /** The largest latency recorded, exact. */
  max = 0;

  record(us: number): void {
    this.counts[Math.min(BUCKETS - 1, Math.floor(Math.log2(Math.max(us, 1)) * 64))]!++;
    this.total++;
    if (us > this.max) this.max = us;
  }

  /** The upper edge of the bucket holding the `p` quantile (0 when nothing was recorded). */
  percentile(p: number): number {
    if (!this.total) return 0;
    const rank = Math.ceil(p * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return upperEdgeUs(i);
    }
    return upperEdgeUs(BUCKETS - 1);
  }
}

function upperEdgeUs(bucket: number): number {
  return 2 ** ((bucket + 1) / 64);
}
