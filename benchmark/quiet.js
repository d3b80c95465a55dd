'use strict'

// This machine is shared: other jobs' CPU use makes a run slower by an
// amount that has nothing to do with the peer. Before each measurement we
// wait (within a budget) for the machine to be quiet, and a run taken while
// it was busy is taken again once (also within the budget).

const os = require('node:os')
const { machineBusySeconds } = require('./proc')

const SAMPLE_MS = 200

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Busy share of the whole machine (all cores) over the next SAMPLE_MS, in %. */
async function busyPct() {
  const b0 = machineBusySeconds()
  const t0 = Date.now()
  await sleep(SAMPLE_MS)
  return (100 * (machineBusySeconds() - b0)) / (((Date.now() - t0) / 1000) * os.cpus().length)
}

class Quiet {
  /**
   * @param thresholdPct  the machine counts as quiet below this busy share
   * @param maxWaitMs     the longest wait before one measurement
   * @param budgetMs      all waiting and retrying of the whole run together
   */
  constructor({ thresholdPct, maxWaitMs, budgetMs }) {
    Object.assign(this, { thresholdPct, maxWaitMs, budgetMs })
    this.spentMs = 0
  }

  get left() {
    return this.budgetMs - this.spentMs
  }

  /** Waits until the machine is quiet, up to maxWaitMs and the budget left. */
  async wait() {
    const start = Date.now()
    const until = start + Math.min(this.maxWaitMs, this.left)
    while (Date.now() < until && (await busyPct()) > this.thresholdPct) {
      // keep sampling
    }
    const waited = Date.now() - start
    this.spentMs += waited
    return waited
  }

  /** Whether a run this noisy should be taken again, and there is budget for it. */
  shouldRetry(foreignCpuPct, runMs) {
    if (!(foreignCpuPct > this.thresholdPct) || this.left < runMs) return false
    this.spentMs += runMs
    return true
  }
}

module.exports = { Quiet }
