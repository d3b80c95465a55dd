'use strict'

// Turns the workers' reports of one measurement into its figures.

const { Histogram } = require('./histogram')

/**
 * @param reports  one per worker, as the workload loops answer them
 * @param spec     the measurement (durationMs, bigSize, ...)
 * @param final    workload C: the counter value read back at the end
 */
function aggregate(reports, spec, final) {
  const seconds = spec.durationMs / 1000
  const ops = sum(reports, 'ops')
  const figures = {
    ops,
    opsPerSec: ops / seconds,
    bad: sum(reports, 'bad'),
  }
  if (reports.some((r) => r.hist)) {
    const hist = Histogram.merge(reports.map((r) => r.hist || []))
    figures.p50us = hist.quantile(0.5)
    figures.p99us = hist.quantile(0.99)
  }
  if (reports[0] && reports[0].bytesPerOp) {
    figures.mbPerSec = (ops * reports[0].bytesPerOp) / 1e6 / seconds
  }
  if (final !== undefined) {
    const expected = sum(reports, 'issued')
    const got = Number(final) || 0
    figures.counter = { expected, final: got, lost: expected - got }
  }
  return figures
}

function sum(reports, field) {
  return reports.reduce((total, r) => total + (r[field] || 0), 0)
}

module.exports = { aggregate }
