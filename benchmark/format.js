'use strict'

// Number formatting shared by the tables and the chart.

/** 950, 12.3k, 344k, 1.23M: three significant digits. */
function count(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  const abs = Math.abs(n)
  if (abs >= 1e6) return `${trim(n / 1e6)}M`
  if (abs >= 1e3) return `${trim(n / 1e3)}k`
  return trim(n)
}

function trim(x) {
  const abs = Math.abs(x)
  if (abs >= 100) return String(Math.round(x))
  if (abs >= 10) return x.toFixed(1).replace(/\.0$/, '')
  return x.toFixed(2).replace(/\.?0+$/, '')
}

/** 12×, 5.1×, 0.43×, 0.012× */
function ratio(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '–'
  if (r === 0) return '0×'
  if (r >= 10) return `${Math.round(r)}×`
  if (r >= 1) return `${r.toFixed(1)}×`
  if (r >= 0.1) return `${r.toFixed(2)}×`
  return `${r.toPrecision(2)}×`
}

/** Microseconds: 3.5, 82, 264, 2.1k */
function micros(us) {
  if (us === null || us === undefined) return '–'
  if (us >= 1000) return count(us)
  return us >= 10 ? String(Math.round(us)) : us.toFixed(1)
}

/** Bytes per entry: 87 B */
function bytes(b) {
  if (b === null || b === undefined || !Number.isFinite(b)) return '–'
  return `${Math.round(b)} B`
}

/** The runs of one cell, "344k · 351k"; a failed run (null) shows as ERR. */
function runs(values, fmt = count) {
  return values.length ? values.map((v) => (v === null ? 'ERR' : fmt(v))).join(' · ') : '–'
}

module.exports = { count, ratio, micros, bytes, runs }
