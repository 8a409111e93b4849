/**
 * Counters of the run (the servers' CPU, Redis', the driver's, the servers' write calls) while the
 * driver measures, setup and drain left out: a join storm or a slow drain would otherwise dominate
 * a light workload's figures. Samples every 100 ms and reads rates over the driver's measured
 * window afterwards.
 */
import type { DriverResult } from './driver.js';

/** chatload lets join announcements settle this long between setup and the first message. */
const SETTLE_S = 0.3;
/** Trimmed off each end of the window: the samples and the driver's clock are not aligned. */
const EDGE_S = 0.25;

interface Sample {
  at: number;
  cpu: number[];
}

export class CpuWindow {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();

  /** `probes`: each a counter read now, or null when it cannot be read (its process gone, say). */
  constructor(private readonly probes: (() => number | null)[]) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /**
   * Each counter's rate per second over the driver's measured window (its start: setup, settle
   * and warm-up after the driver started), or null when the window is too short to say or a
   * counter could not be read.
   */
  ratesIn(result: DriverResult, warmup: number): number[] | null {
    const from = (result.setup_s + SETTLE_S + warmup + EDGE_S) * 1000;
    const to = from + (result.measure_s - 2 * EDGE_S) * 1000;
    if (to - from < 500) return null;
    const first = this.samples.find((s) => s.at >= from);
    const last = [...this.samples].reverse().find((s) => s.at <= to);
    if (!first || !last || last.at - first.at < 400) return null;
    const seconds = (last.at - first.at) / 1000;
    const rates = first.cpu.map((cpu, i) => (last.cpu[i]! - cpu) / seconds);
    return rates.some(Number.isNaN) ? null : rates;
  }

  /**
   * The measured window's quietest half second for the first counter (the servers' CPU): its rate,
   * and the other counters' rates then. In a closed-loop run a server well under a core while the driver
   * keeps going is waiting with work queued: a stall, not contention.
   */
  quietestIn(result: DriverResult, warmup: number): number[] | null {
    const from = (result.setup_s + SETTLE_S + warmup + EDGE_S) * 1000;
    const to = from + (result.measure_s - 2 * EDGE_S) * 1000;
    const inside = this.samples.filter((s) => s.at >= from && s.at <= to);
    let quietest: number[] | null = null;
    for (let i = 0; i + 5 < inside.length; i++) {
      const [a, b] = [inside[i]!, inside[i + 5]!];
      const seconds = (b.at - a.at) / 1000;
      const rates = a.cpu.map((cpu, g) => (b.cpu[g]! - cpu) / seconds);
      if (rates.some(Number.isNaN)) continue;
      if (quietest === null || rates[0]! < quietest[0]!) quietest = rates;
    }
    return quietest;
  }

  private sample(): void {
    const cpu = this.probes.map((probe) => probe() ?? Number.NaN);
    this.samples.push({ at: performance.now() - this.started, cpu });
  }
}
