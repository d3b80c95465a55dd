'use strict'

// Command-line flags of `node benchmark/run.js`, with their defaults.
// `--smoke` swaps in a few-second profile for CI; flags given after it win.

const { PEERS, DEFAULT_PEERS, SMOKE_PEERS } = require('./peers')
const { WORKLOADS } = require('./workloads')

const FULL = {
  workloads: Object.keys(WORKLOADS),
  workers: [1, 2, 4],
  peers: DEFAULT_PEERS,
  repeat: 2,
  durationMs: 1000,
  warmupMs: 200,
  keys: 10000,
  depth: 64,
  bigSize: 100 * 1024,
  memoryEntries: 1000000,
  timeoutMs: 60000,
  quietPct: 25,
  quietWaitMs: 3000,
  quietBudgetS: 90,
  out: 'benchmark/results/latest.json',
  chart: 'benchmark/chart.svg',
  smoke: false,
}

const SMOKE = {
  ...FULL,
  workers: [1],
  peers: SMOKE_PEERS,
  repeat: 1,
  durationMs: 150,
  warmupMs: 50,
  keys: 1000,
  memoryEntries: 0,
  timeoutMs: 20000,
  quietBudgetS: 0,
  out: 'benchmark/results/smoke.json',
  chart: null,
  smoke: true,
}

const FLAGS = {
  '--workloads': ['workloads', list],
  '--workers': ['workers', (v) => list(v).map(positiveInt)],
  '--peers': ['peers', list],
  '--repeat': ['repeat', positiveInt],
  '--duration-ms': ['durationMs', positiveInt],
  '--warmup-ms': ['warmupMs', nonNegativeInt],
  '--keys': ['keys', positiveInt],
  '--depth': ['depth', positiveInt],
  '--big-size': ['bigSize', positiveInt],
  '--memory-entries': ['memoryEntries', nonNegativeInt],
  '--timeout-ms': ['timeoutMs', positiveInt],
  '--quiet-pct': ['quietPct', nonNegativeInt],
  '--quiet-wait-ms': ['quietWaitMs', nonNegativeInt],
  '--quiet-budget-s': ['quietBudgetS', nonNegativeInt],
  '--out': ['out', String],
  '--chart': ['chart', (v) => (v === 'none' ? null : v)],
}

const USAGE = `usage: node benchmark/run.js [flags]

  --smoke                 a few seconds: sharedmemory + baseline, W=1, tiny durations, no redis,
                          no memory test, no chart (what CI runs)
  --workloads A,B,C,D,E   workloads to run (default: all)
  --workers 1,2,4         worker counts W
  --peers a,b,...         peers (default: all); known: ${Object.keys(PEERS).join(', ')}
  --repeat 2              measurements per cell (all shown, e.g. "344k · 351k")
  --duration-ms 1000      measured window per measurement
  --warmup-ms 200         warm-up before the window
  --keys 10000            preloaded keys for A, B, E
  --depth 64              requests in flight per worker for B, E
  --big-size 102400       value size for D, in bytes
  --memory-entries 1000000  entries for the memory test (0: skip it)
  --timeout-ms 60000      a measurement taking longer fails (its processes are stopped)
  --quiet-pct 25          the machine is "quiet" when other processes use less CPU than this;
                          a run during which they used more is taken again once
  --quiet-wait-ms 3000    longest wait for a quiet machine before one measurement
  --quiet-budget-s 90     total time all such waits and retries may add (0: never wait)
  --out PATH              results JSON (default benchmark/results/latest.json)
  --chart PATH|none       SVG chart (default benchmark/chart.svg)
`

function parse(argv) {
  const opts = { ...(argv.includes('--smoke') ? SMOKE : FULL) }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    if (flag === '--smoke') continue
    if (flag === '--help' || flag === '-h') return { help: USAGE }
    const [eq, inline] = flag.includes('=') ? flag.split(/=(.*)/s) : [flag, undefined]
    const spec = FLAGS[eq]
    if (!spec) throw new Error(`unknown flag ${flag}\n\n${USAGE}`)
    const raw = inline !== undefined ? inline : argv[++i]
    if (raw === undefined) throw new Error(`${eq} needs a value`)
    opts[spec[0]] = spec[1](raw)
  }
  for (const w of opts.workloads) if (!WORKLOADS[w]) throw new Error(`unknown workload ${w} (known: ${Object.keys(WORKLOADS)})`)
  for (const p of opts.peers) if (!PEERS[p]) throw new Error(`unknown peer ${p} (known: ${Object.keys(PEERS)})`)
  return opts
}

function list(v) {
  return String(v).split(',').map((s) => s.trim()).filter(Boolean)
}

function positiveInt(v) {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${v}`)
  return n
}

function nonNegativeInt(v) {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got ${v}`)
  return n
}

module.exports = { parse, USAGE }
