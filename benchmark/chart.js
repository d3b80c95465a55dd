'use strict'

// benchmark/chart.svg: horizontal bars on a log scale, at W=2 (or the W
// run, if 2 was not): one panel with B and E side by side for each peer, one
// panel with A. A bar is the mean of the runs; each run is a dot on it.
// Plain SVG written by hand, no library: it renders on GitHub and anywhere.

const fs = require('node:fs')
const path = require('node:path')
const { Cells } = require('./cells')
const { PEERS, runs: peerRuns } = require('./peers')
const fmt = require('./format')
const { ROOT } = require('./results')

const WIDTH = 980
const LEFT = 240 // peer labels
const RIGHT = 130 // value labels
const PLOT = WIDTH - LEFT - RIGHT
const BAR = 12
const COLORS = { B: '#4e79a7', E: '#f28e2b', A: '#59a14f', sync: '#b07aa1' }

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length

function text(x, y, s, attrs = '') {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`
}

/** The log scale shared by both panels: value → x. */
function scale(values) {
  const positive = values.filter((v) => v > 0)
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive, 1e3)))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive, 1e4)))
  const x = (v) => LEFT + (PLOT * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo))
  return { lo, hi, x }
}

function axis(s, top, bottom) {
  const out = []
  for (let decade = s.lo; decade <= s.hi; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m
      if (v > s.hi) break
      const x = s.x(v)
      const major = m === 1
      out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${major ? '#bbb' : '#e6e6e6'}" stroke-width="1"/>`)
      if (major) out.push(text(x, top - 6, fmt.count(v), 'text-anchor="middle" fill="#555"'))
    }
  }
  return out
}

/** One bar (mean of the runs) with a dot per run and the runs as its label. */
function bar(s, y, values, color, note) {
  if (!values.length) return [text(LEFT + 4, y + BAR - 2, note || 'not run', 'fill="#888" font-style="italic"')]
  const m = mean(values)
  const end = s.x(m)
  const out = [`<rect x="${LEFT}" y="${y}" width="${Math.max(1, end - LEFT).toFixed(1)}" height="${BAR}" fill="${color}"/>`]
  for (const v of values) out.push(`<circle cx="${s.x(v).toFixed(1)}" cy="${(y + BAR / 2).toFixed(1)}" r="2.6" fill="#222"/>`)
  const labelX = Math.max(end, ...values.map(s.x)) + 8
  out.push(text(labelX, y + BAR - 2, fmt.runs(values), 'fill="#222"'))
  return out
}

function peerLabel(peer, y) {
  const weight = PEERS[peer].ours ? 'font-weight="bold"' : ''
  return text(LEFT - 10, y, PEERS[peer].label, `text-anchor="end" ${weight}`)
}

function legend(x, y, items) {
  const out = []
  for (const [label, color] of items) {
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${color}"/>`)
    out.push(text(x + 17, y, label))
    x += 30 + label.length * 6.6
  }
  return out
}

function noteFor(runs) {
  if (runs.some((m) => m.notRun)) return 'not run'
  if (runs.some((m) => m.error)) return 'error'
  return 'not run'
}

function render(results) {
  const { measurements, meta } = results
  const cells = new Cells(measurements)
  const W = meta.flags.workers.includes(2) ? 2 : meta.flags.workers[0]
  const peers = meta.flags.peers
  const bePeers = peers.filter((p) => peerRuns(p, 'B'))
  const aPeers = peers.filter((p) => peerRuns(p, 'A'))
  const values = (w, p) => cells.values(w, W, p).filter((v) => v !== null)
  const s = scale([...bePeers.flatMap((p) => [...values('B', p), ...values('E', p)]), ...aPeers.flatMap((p) => values('A', p))])

  const out = []
  let y = 34
  out.push(text(20, y, `sharedmemory benchmark: operations per second, W=${W} workers`, 'font-size="16" font-weight="bold"'))
  y += 20
  const v = meta.versions
  out.push(text(20, y, `Log scale; bar = mean of the runs, dots = each run. ${meta.machine.cores} cores (${meta.machine.cpu}), Node ${v.node}, ${meta.date.slice(0, 10)}, ${meta.flags.durationMs} ms per run after ${meta.flags.warmupMs} ms warm-up.`, 'fill="#555"'))

  // Panel 1: B and E.
  y += 40
  out.push(text(20, y, 'B: 64 requests in flight per worker, 90% get / 10% set   ·   E: the same while the master JS thread is busy 200 ms of every 250 ms', 'font-weight="bold"'))
  y += 18
  out.push(...legend(LEFT, y, [['B (master idle)', COLORS.B], ['E (master busy)', COLORS.E]]))
  y += 26
  const top1 = y
  const rows1 = []
  for (const p of bePeers) {
    rows1.push(peerLabel(p, y + BAR + 3))
    rows1.push(...bar(s, y, values('B', p), COLORS.B, noteFor(cells.runs('B', W, p))))
    rows1.push(...bar(s, y + BAR + 2, values('E', p), COLORS.E, noteFor(cells.runs('E', W, p))))
    y += 2 * BAR + 14
  }
  out.push(...axis(s, top1, y - 8), ...rows1)

  // Panel 2: A.
  y += 34
  out.push(text(20, y, 'A: sequential get, one request in flight per worker (sync = getSync() / lmdb get, no await)', 'font-weight="bold"'))
  y += 18
  out.push(...legend(LEFT, y, [['async get', COLORS.A], ['sync get', COLORS.sync]]))
  y += 26
  const top2 = y
  const rows2 = []
  for (const p of aPeers) {
    rows2.push(peerLabel(p, y + BAR - 2))
    rows2.push(...bar(s, y, values('A', p), PEERS[p].sync ? COLORS.sync : COLORS.A, noteFor(cells.runs('A', W, p))))
    y += BAR + 10
  }
  out.push(...axis(s, top2, y - 6), ...rows2)
  y += 20
  out.push(text(20, y, 'Reproduce: npm run bench (benchmark/README.md). Bold: this package.', 'fill="#555"'))
  const height = y + 16

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n')
}

function write(file, results) {
  const target = path.resolve(ROOT, file)
  fs.mkdirSync(path.dirname(target), { recursive: true })
  fs.writeFileSync(target, render(results))
  return target
}

module.exports = { write, render }
