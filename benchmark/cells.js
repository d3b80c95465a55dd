'use strict'

// Looks measurements up by (workload, W, peer): each cell holds its runs in
// the order they were taken, and each workload has one headline figure.
// Failed runs stay in place (as null figures) so that run i pairs with run i.

/** Whether a list of figures holds at least one real one. */
const anyFigure = (values) => values.some((v) => v !== null && v !== undefined)

const METRIC = { A: 'opsPerSec', AS: 'opsPerSec', AH: 'opsPerSec', B: 'opsPerSec', C: 'opsPerSec', D: 'mbPerSec', E: 'opsPerSec' }

class Cells {
  constructor(measurements) {
    this.map = new Map()
    for (const m of measurements) {
      const id = Cells.id(m.workload, m.workers, m.peer)
      if (!this.map.has(id)) this.map.set(id, [])
      this.map.get(id).push(m)
    }
  }

  static id(workload, workers, peer) {
    return `${workload}|${workers}|${peer}`
  }

  /** Every run of the cell (possibly failed ones, with `error`). */
  runs(workload, workers, peer) {
    return this.map.get(Cells.id(workload, workers, peer)) || []
  }

  /** The headline figure (or `field`) of each run, in order; null for a run that failed. */
  values(workload, workers, peer, field = METRIC[workload]) {
    return this.runs(workload, workers, peer).map((m) => (m.error || m.notRun ? null : m[field]))
  }

  /** Run-by-run ratios a/b of two cells (run i over run i); null where either run failed. */
  ratios(a, b) {
    const n = Math.min(a.length, b.length)
    const out = []
    for (let i = 0; i < n; i++) out.push(a[i] === null || b[i] === null ? null : b[i] > 0 ? a[i] / b[i] : Infinity)
    return out
  }
}

module.exports = { Cells, METRIC, anyFigure }
