'use strict'

// Latency samples, kept as a histogram of logarithmic buckets (each 2 % wider
// than the last, from 0.05 µs): exact enough for p50/p99, and small enough to
// send from a worker to the master over IPC whatever the sample count.

const MIN_US = 0.05
const STEP = Math.log(1.02)
const BUCKETS = 1100 // up to ~0.05 µs × 1.02^1100 ≈ 160 s

class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS)
    this.n = 0
  }

  /** Records one sample, in microseconds. */
  record(us) {
    const i = us <= MIN_US ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(us / MIN_US) / STEP))
    this.counts[i]++
    this.n++
  }

  /** The sample at quantile q (0..1), in microseconds (the middle of its bucket). */
  quantile(q) {
    if (this.n === 0) return null
    const rank = Math.max(1, Math.ceil(q * this.n))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return MIN_US * Math.exp((i + 0.5) * STEP)
    }
    return null
  }

  /** Sparse [bucket, count] pairs, for IPC. */
  toJSON() {
    const pairs = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) pairs.push([i, this.counts[i]])
    return pairs
  }

  static merge(list) {
    const h = new Histogram()
    for (const pairs of list) {
      for (const [i, c] of pairs) {
        h.counts[i] += c
        h.n += c
      }
    }
    return h
  }
}

module.exports = { Histogram }
