'use strict'

// The text report: one table of figures per workload (every run shown),
// the same as ratios to `baseline`, the target rows, and the memory test.
// Tables are Markdown, so they read well in a terminal and paste into docs.

const fmt = require('./format')
const { PEERS, runs: peerRuns } = require('./peers')
const { WORKLOADS } = require('./workloads')
const { Cells, anyFigure } = require('./cells')
const { evaluate } = require('./targets')

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  const align = headers.map((_, i) => (i === 0 ? ':---' : '---:'))
  return [line(headers), line(align), ...rows.map(line)].join('\n')
}

/** What a cell shows when there is no figure: why. */
function missing(cellRuns) {
  if (cellRuns.some((m) => m.notRun)) return 'not run'
  if (cellRuns.some((m) => m.error)) return 'ERR'
  return '–'
}

function flags(cellRuns) {
  let out = ''
  if (cellRuns.some((m) => m.bad > 0)) out += ' !'
  if (cellRuns.some((m) => m.foreignCpuPct > 25)) out += ' *'
  return out
}

function figureCell(cells, w, workers, peer) {
  const all = cells.runs(w, workers, peer)
  const values = cells.values(w, workers, peer)
  return (anyFigure(values) ? fmt.runs(values) : missing(all)) + flags(all)
}

function workloadTable(cells, w, opts) {
  const peers = opts.peers.filter((p) => peerRuns(p, w))
  const headers = ['peer']
  for (const n of opts.workers) {
    headers.push(`W=${n} ${WORKLOADS[w].unit}`)
    if (WORKLOADS[w].latency) headers.push(`W=${n} p50/p99 µs`)
    if (w === 'C') headers.push(`W=${n} lost`)
  }
  const rows = peers.map((p) => {
    const row = [`\`${p}\``]
    for (const n of opts.workers) {
      row.push(figureCell(cells, w, n, p))
      const all = cells.runs(w, n, p)
      const each = (show) => (all.some((m) => !m.error && !m.notRun) ? all.map((m) => (m.error ? 'ERR' : show(m))).join(' · ') : '–')
      if (WORKLOADS[w].latency) row.push(each((m) => `${fmt.micros(m.p50us)}/${fmt.micros(m.p99us)}`))
      if (w === 'C') row.push(each((m) => `${m.counter.lost}/${m.counter.expected}`))
    }
    return row
  })
  const notes = w === 'C' ? peers.filter((p) => PEERS[p].incr).map((p) => `\`${p}\` increments with ${PEERS[p].incr}.`) : []
  return [`### ${w}: ${WORKLOADS[w].title}`, table(headers, rows), ...(notes.length ? [notes.join(' ')] : [])].join('\n\n')
}

function ratioTable(cells, w, opts) {
  const peers = opts.peers.filter((p) => peerRuns(p, w) && p !== 'baseline')
  const headers = ['peer / baseline', ...opts.workers.map((n) => `W=${n}`)]
  const rows = peers.map((p) => [
    `\`${p}\``,
    ...opts.workers.map((n) => {
      const r = cells.ratios(cells.values(w, n, p), cells.values(w, n, 'baseline'))
      return anyFigure(r) ? fmt.runs(r, fmt.ratio) : missing(cells.runs(w, n, p))
    }),
  ])
  return `#### ${w} as ratios to \`baseline\` (run by run)\n\n${table(headers, rows)}`
}

function targetTable(targets) {
  const W = targets.length ? targets[0].workers : 2
  const rows = targets.map((t) => [
    t.label,
    t.goal === null ? '≈ 0 expected' : `${t.max ? '≤' : '≥'} ${t.goal}×`,
    anyFigure(t.ratios) ? fmt.runs(t.ratios, fmt.ratio) : '–',
    t.status,
  ])
  return `### Targets (W=${W}${W === 2 ? '' : '; the targets are defined for W=2'})\n\n${table(['target', 'goal', 'measured (run by run)', 'status'], rows)}`
}

function memoryTable(memory) {
  if (!memory) return '### Memory\n\nnot run (--memory-entries 0)'
  const { ours, redis } = memory
  const mb = (b) => (b === null || b === undefined ? '–' : `${(b / 1048576).toFixed(1)} MiB`)
  const rows = []
  if (ours.error) rows.push(['sharedmemory master', 'ERR', ours.error, '', ''])
  else rows.push(['`sharedmemory` master RSS', mb(ours.rssAfter - ours.rssBefore), fmt.bytes(ours.bytesPerEntry), `store's own count: ${fmt.bytes(ours.storeBytes / memory.entries)}`, `${ours.loadMs} ms`])
  if (!redis) rows.push(['redis', 'not run', '', '', ''])
  else if (redis.error) rows.push(['redis', 'ERR', redis.error, '', ''])
  else {
    rows.push(['`redis` INFO used_memory', mb(redis.usedAfter - redis.usedBefore), fmt.bytes(redis.bytesPerEntry), `server RSS: ${fmt.bytes(redis.rssBytesPerEntry)}`, `${redis.loadMs} ms`])
  }
  const n = memory.entries.toLocaleString('en-US')
  return `### Memory: ${n} entries (key \`k:123456\`, value a 19-character string)\n\n${table(['store', 'delta', 'per entry', 'note', 'load time'], rows)}`
}

/** The whole report, as text. */
function render(results) {
  const { measurements, memory, meta } = results
  const opts = meta.flags
  const cells = new Cells(measurements)
  const parts = []
  for (const w of opts.workloads) {
    parts.push(workloadTable(cells, w, opts))
    if (opts.peers.includes('baseline')) parts.push(ratioTable(cells, w, opts))
  }
  parts.push(targetTable(results.targets))
  parts.push(memoryTable(memory))
  parts.push(
    'Each cell: run 1 · run 2 (each a fresh cluster). `*` = more than 25 % of the machine\'s CPU was used by ' +
      'processes outside the measurement during a run; `!` = a read answered a wrong value; ERR = the ' +
      'measurement failed (see the JSON); not run = redis-server missing.',
  )
  return parts.join('\n\n')
}

/** Computes the target rows (stored in the results too). */
function targets(measurements, opts, memory) {
  return evaluate(new Cells(measurements), opts.peers, opts.workers, memory)
}

module.exports = { render, targets, table }
