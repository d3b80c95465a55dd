'use strict'

// Soak: a real node:cluster app under mixed load for a while, failing on any failed request or on
// memory that keeps growing. npm run soak (300 s, 4 workers); npm run soak:ci (20 s, 2 workers).
//
//   node scripts/soak.js [--duration-s 300] [--workers 4] [--warmup-s S] [--transport socket|ipc]
//                        [--rss-growth-mb 48] [--rss-growth-pct 30]
//                        [--heap-growth-mb 24] [--heap-growth-pct 50]
//
// The master hosts the store, {cache: {type: 'LRU', max: 1500}} (fewer than the keys that are live
// at a time, so it evicts), and runs a light load of its own.
// Each worker runs 8 loops of mixed requests over a key space that moves on every 5 s (so old keys
// expire by TTL or are evicted): set with a TTL, get, incr with a TTL, delete, mget, has, ttl, and
// withLock around a check that nobody else is inside the lock; and it watches a changing pattern.
//
// Every second the master samples its RSS and each worker reports its heapUsed. It fails (exit code
// 1, saying why) on:
//   - any rejected request, any 'error' from a controller, a lock held by two at once, a worker
//     that exits early, no watch event at all, or the hard deadline (duration + 60 s);
//   - master RSS growth: the median of the last 5 samples over the median of the 5 after warm-up,
//     by more than the larger of --rss-growth-mb and --rss-growth-pct % of the latter;
//   - worker heap growth: per worker, the lowest heapUsed of the last 5 samples over the lowest of
//     the 5 after warm-up (lowest: nearest to after a GC), beyond --heap-growth-mb / --heap-growth-pct.
// Medians and minima over 5 samples, and bounds with room, keep it steady on a loaded 2-core box;
// a leak of a few hundred bytes per request still crosses them within the 300 s default.
//
// Every process it starts it stops, by PID, on every way out (end, failure, signal, deadline).

const cluster = require('node:cluster')

const KEYS_PER_EPOCH = 2000
const EPOCH_MS = 5000
const LOOPS_PER_WORKER = 8
const LRU_MAX = 1500
const SAMPLES = 5 // per window, for the growth bounds

function options(argv) {
  const o = {
    durationS: 300,
    workers: 4,
    warmupS: null,
    transport: 'socket',
    rssGrowthMb: 48,
    rssGrowthPct: 30,
    heapGrowthMb: 24,
    heapGrowthPct: 50,
  }
  const names = {
    '--duration-s': 'durationS',
    '--workers': 'workers',
    '--warmup-s': 'warmupS',
    '--transport': 'transport',
    '--rss-growth-mb': 'rssGrowthMb',
    '--rss-growth-pct': 'rssGrowthPct',
    '--heap-growth-mb': 'heapGrowthMb',
    '--heap-growth-pct': 'heapGrowthPct',
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2)
    const name = names[flag]
    if (!name) throw new Error(`unknown option ${argv[i]} (options: ${Object.keys(names).join(' ')})`)
    const value = inline ?? argv[++i]
    o[name] = name === 'transport' ? value : Number(value)
    if (name !== 'transport' && !(o[name] >= 0)) throw new Error(`${flag} takes a number, got ${value}`)
  }
  if (!['socket', 'ipc'].includes(o.transport)) throw new Error(`--transport is socket or ipc, got ${o.transport}`)
  if (!(o.workers >= 1)) throw new Error('--workers takes at least 1')
  if (!(o.durationS >= 4)) throw new Error('--duration-s takes at least 4')
  // Warm-up: the store fills to its bound and the heaps settle; then a window to measure from.
  if (o.warmupS === null) o.warmupS = Math.min(30, Math.max(3, Math.round(o.durationS / 5)))
  if (o.warmupS + SAMPLES + SAMPLES > o.durationS) o.warmupS = Math.max(0, o.durationS - 2 * SAMPLES)
  return o
}

const config = (o) => ({ cache: { type: 'LRU', max: LRU_MAX }, transport: o.transport, timeout: 30000, connectTimeout: 30000 })

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor(s.length / 2)] : NaN
}
const mb = (bytes) => (bytes / 1048576).toFixed(1)

/** Whether process `pid` still runs (a zombie does not). */
function running(pid) {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}

// ---- master -------------------------------------------------------------------------------------

async function master() {
  let o
  try {
    o = options(process.argv.slice(2))
  } catch (err) {
    console.error(`soak: ${err.message}`)
    process.exit(2)
  }
  const memory = require('..').init(config(o))
  const started = Date.now()
  const failures = []
  const fail = (why) => {
    if (failures.length < 20) failures.push(why)
  }
  const workers = new Map() // id -> {worker, pid, exited, reports: [], done}
  const rss = [] // [secondsSinceStart, bytes]
  let finishing = false

  // SIGKILL to every worker still there, then up to 2 s (synchronously) until each is gone or a zombie.
  const killAll = () => {
    const left = [...workers.values()].filter((w) => !w.exited).map((w) => w.pid)
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const until = Date.now() + 2000
    while (left.some(running) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`soak: ${signal}: stopping the workers`)
      killAll()
      process.exit(1)
    })
  }
  process.on('uncaughtException', (err) => {
    console.error('soak: the master failed:', err)
    killAll()
    process.exit(1)
  })
  const hardDeadline = setTimeout(() => {
    console.error(`soak: FAIL: not done ${o.durationS + 60} s after the start (hard deadline); killing the workers`)
    killAll()
    process.exit(1)
  }, (o.durationS + 60) * 1000)
  hardDeadline.unref()

  memory.on('error', (err) => fail(`master: controller error ${err.code}: ${err.message}`))

  cluster.on('message', (worker, msg) => {
    if (!msg || msg.soak === undefined) return
    const w = workers.get(worker.id)
    if (msg.soak === 'report') w.reports.push({ at: (Date.now() - started) / 1000, ...msg.report })
    if (msg.soak === 'done') w.done = msg.report
  })
  cluster.on('exit', (worker, code, signal) => {
    const w = workers.get(worker.id)
    w.exited = true
    if (!finishing) fail(`worker ${worker.id} (pid ${w.pid}) exited early (${code ?? signal})`)
  })

  const spec = JSON.stringify({ ...o, started })
  for (let i = 0; i < o.workers; i++) {
    const worker = cluster.fork({ SOAK_SPEC: spec })
    workers.set(worker.id, { worker, pid: worker.process.pid, exited: false, reports: [], done: null })
  }
  console.log(
    `soak: ${o.workers} workers for ${o.durationS} s over ${o.transport} (warm-up ${o.warmupS} s), LRU max ${LRU_MAX}; ` +
      `master pid ${process.pid}, workers ${[...workers.values()].map((w) => w.pid).join(' ')}`,
  )

  const sampler = setInterval(() => rss.push([(Date.now() - started) / 1000, process.memoryUsage().rss]), 1000)

  // The master's own light load: its requests go through the local transport.
  const local = { ops: 0, errors: 0 }
  let masterLoad = true
  const masterLoop = (async () => {
    let n = 0
    while (masterLoad) {
      n++
      try {
        await memory.set(`m:${n % 100}`, { n }, { ttl: 2000 })
        await memory.get(`m:${(n * 7) % 100}`)
        await memory.incr('m:count')
        local.ops += 3
      } catch (err) {
        local.errors++
        fail(`master: ${err.code || err.name}: ${err.message}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()

  await new Promise((resolve) => setTimeout(resolve, o.durationS * 1000))

  // Stop: every worker finishes what it has in flight and sends its final report.
  finishing = true
  masterLoad = false
  await masterLoop
  for (const w of workers.values()) {
    try {
      if (!w.exited) w.worker.send({ soak: 'stop' })
    } catch {
      // its channel closed: it is reported below, having sent no final report
    }
  }
  const waitUntil = Date.now() + 30000
  while ([...workers.values()].some((w) => !w.exited && !w.done) && Date.now() < waitUntil) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  clearInterval(sampler)
  for (const [id, w] of workers) if (!w.done) fail(`worker ${id} sent no final report${w.exited ? ' (it exited)' : ' within 30 s'}`)
  let stats = null
  try {
    stats = await memory.stats()
  } catch (err) {
    fail(`master: stats() failed: ${err.code}: ${err.message}`)
  }

  // Stop the workers, by PID: a disconnect, then SIGKILL for any still there a few seconds later.
  for (const w of workers.values()) if (!w.exited) w.worker.disconnect()
  const killAt = Date.now() + 5000
  while ([...workers.values()].some((w) => !w.exited) && Date.now() < killAt) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  killAll()

  const result = summarize(o, { workers, rss, local, stats, failures, elapsedS: (Date.now() - started) / 1000 })
  clearTimeout(hardDeadline)
  process.exitCode = result.ok ? 0 : 1
}

function summarize(o, { workers, rss, local, stats, failures, elapsedS }) {
  const done = [...workers.values()].map((w) => w.done).filter(Boolean)
  const sum = (f) => done.reduce((n, d) => n + f(d), 0)
  const ops = sum((d) => d.ops) + local.ops
  const errors = sum((d) => d.errors) + local.errors
  const events = sum((d) => d.events)
  const byOp = {}
  for (const d of done) for (const [op, n] of Object.entries(d.byOp)) byOp[op] = (byOp[op] || 0) + n
  for (const d of done) for (const why of d.failures) if (failures.length < 20) failures.push(why)
  if (events === 0 && o.durationS >= 10) failures.push('no watch event arrived at any worker')

  // Master RSS: after warm-up, against the end.
  const afterWarmup = rss.filter(([at]) => at >= o.warmupS).map(([, b]) => b)
  const rssStart = median(afterWarmup.slice(0, SAMPLES))
  const rssEnd = median(afterWarmup.slice(-SAMPLES))
  const rssPeak = Math.max(...rss.map(([, b]) => b))
  const rssAllowed = Math.max(o.rssGrowthMb * 1048576, (rssStart * o.rssGrowthPct) / 100)
  if (afterWarmup.length < 2 * SAMPLES) failures.push(`only ${afterWarmup.length} RSS samples after warm-up`)
  else if (rssEnd - rssStart > rssAllowed) {
    failures.push(`master RSS grew ${mb(rssEnd - rssStart)} MB (${mb(rssStart)} -> ${mb(rssEnd)} MB), more than the ${mb(rssAllowed)} MB allowed`)
  }

  // Worker heaps: lowest of a window (nearest to after a GC), after warm-up against the end.
  const heaps = []
  for (const [id, w] of workers) {
    const after = w.reports.filter((r) => r.at >= o.warmupS).map((r) => r.heapUsed)
    if (after.length < 2 * SAMPLES) {
      failures.push(`worker ${id}: only ${after.length} heap samples after warm-up`)
      continue
    }
    const start = Math.min(...after.slice(0, SAMPLES))
    const end = Math.min(...after.slice(-SAMPLES))
    const peak = Math.max(...w.reports.map((r) => r.heapUsed))
    const allowed = Math.max(o.heapGrowthMb * 1048576, (start * o.heapGrowthPct) / 100)
    heaps.push({ id, start, end, peak })
    if (end - start > allowed) {
      failures.push(`worker ${id} heapUsed grew ${mb(end - start)} MB (${mb(start)} -> ${mb(end)} MB), more than the ${mb(allowed)} MB allowed`)
    }
  }

  const ok = failures.length === 0 && errors === 0
  if (errors > 0 && failures.length === 0) failures.push(`${errors} requests failed`)
  const heapText = heaps.map((h) => `w${h.id} ${mb(h.start)}/${mb(h.peak)}/${mb(h.end)}`).join(', ')
  console.log(
    [
      `soak: ${ok ? 'PASS' : 'FAIL'} after ${elapsedS.toFixed(0)} s: ${ops} requests, ${Math.round(ops / o.durationS)} ops/s, ${errors} errors`,
      `  by op: ${Object.entries(byOp).map(([op, n]) => `${op} ${n}`).join(', ')}; master's own ${local.ops}`,
      `  watch events seen by workers: ${events}; lock sections: ${byOp.withLock || 0}`,
      `  master RSS: start ${mb(rssStart)} MB (after ${o.warmupS} s warm-up), peak ${mb(rssPeak)} MB, end ${mb(rssEnd)} MB; ` +
        `bound: +max(${o.rssGrowthMb} MB, ${o.rssGrowthPct}%)`,
      `  worker heapUsed start/peak/end MB: ${heapText}; bound: +max(${o.heapGrowthMb} MB, ${o.heapGrowthPct}%)`,
      stats
        ? `  store: ${stats.entries} entries, ${mb(stats.bytes)} MB, ${stats.sets} sets, ${stats.hits} hits, ${stats.misses} misses, ` +
          `${stats.expirations} expirations, ${stats.evictions} evictions`
        : '  store: no stats',
      ...failures.map((why) => `  FAIL: ${why}`),
    ].join('\n'),
  )
  return { ok }
}

// ---- worker -------------------------------------------------------------------------------------

async function worker() {
  const o = JSON.parse(process.env.SOAK_SPEC)
  const memory = require('..').init(config(o))
  const me = cluster.worker.id
  const state = { ops: 0, errors: 0, events: 0, byOp: {}, failures: [] }
  const fail = (why) => {
    if (state.failures.length < 5) state.failures.push(`worker ${me}: ${why}`)
  }
  let running = true

  // The master is gone, or too late: never linger.
  process.on('disconnect', () => process.exit(running ? 1 : 0))
  setTimeout(() => process.exit(1), (o.durationS + 90) * 1000).unref()

  memory.on('error', (err) => {
    state.errors++
    fail(`controller error ${err.code}: ${err.message}`)
  })

  const report = () => ({ ...state, heapUsed: process.memoryUsage().heapUsed })
  const reporter = setInterval(() => process.send({ soak: 'report', report: report() }), 1000)

  // Keys move on every EPOCH_MS, so the live ones keep changing.
  const epoch = () => Math.floor((Date.now() - o.started) / EPOCH_MS)
  const key = () => `k:${epoch()}:${Math.floor(Math.random() * KEYS_PER_EPOCH)}`
  const ttl = () => 50 + Math.floor(Math.random() * 5000)
  const payload = (n) => ({ by: me, n, pad: 'x'.repeat(Math.floor(Math.random() * 1500)) })

  const ops = [
    [30, 'set', (n) => memory.set(key(), payload(n), { ttl: ttl() })],
    [28, 'get', () => memory.get(key())],
    [10, 'incr', () => memory.incr(`ctr:${Math.floor(Math.random() * 100)}`, 1, { ttl: 10000 })],
    [8, 'delete', () => memory.delete(key())],
    [10, 'mget', () => memory.mget([key(), key(), key(), key(), key()])],
    [5, 'has', () => memory.has(key())],
    [5, 'ttl', () => memory.ttl(key())],
    [2, 'withLock', () => inLock()],
    [2, 'expire', () => memory.expire(key(), ttl())],
  ]
  const total = ops.reduce((n, [w]) => n + w, 0)
  const pick = () => {
    let r = Math.random() * total
    for (const op of ops) if ((r -= op[0]) < 0) return op
    return ops[0]
  }

  // Nobody else may be inside: the counter is 1 while we are, 0 when we leave.
  const inLock = () =>
    memory.withLock(
      `lock:${Math.floor(Math.random() * 4)}`,
      async (lock) => {
        const inside = await memory.incr(`inside:${lock.key}`)
        if (inside !== 1) fail(`${inside} holders of ${lock.key} at once (token ${lock.token})`)
        await memory.get(key())
        const left = await memory.decr(`inside:${lock.key}`)
        if (left !== 0) fail(`${left} holders left in ${lock.key} (token ${lock.token})`)
      },
      { lease: 20000, wait: 30000 },
    )

  // Watches, on a pattern that changes every few seconds.
  const patterns = ['k:*:7?', 'ctr:1*', 'k:*:12[0-9]', 'inside:*']
  const kinds = new Set(['set', 'delete', 'expire', 'evict'])
  let stop = null
  const rewatch = async (i) => {
    try {
      if (stop) await stop()
      if (!running) return
      stop = memory.watch(patterns[(i + me) % patterns.length], (event) => {
        state.events++
        if (!kinds.has(event.kind) || typeof event.key !== 'string') fail(`odd watch event ${JSON.stringify(event)}`)
      })
      await stop.ready
    } catch (err) {
      state.errors++
      fail(`watch: ${err.code || err.name}: ${err.message}`)
    }
  }
  let round = 0
  await rewatch(round)
  const rewatcher = setInterval(() => rewatch(++round), 3000)

  const loop = async () => {
    while (running) {
      const [, name, run] = pick()
      try {
        await run(state.ops)
        state.ops++
        state.byOp[name] = (state.byOp[name] || 0) + 1
      } catch (err) {
        state.errors++
        fail(`${name}: ${err.code || err.name}: ${err.message}`)
      }
    }
  }
  const loops = Array.from({ length: LOOPS_PER_WORKER }, loop)

  process.on('message', async (msg) => {
    if (!msg || msg.soak !== 'stop') return
    running = false
    clearInterval(rewatcher)
    await Promise.all(loops)
    try {
      if (stop) await stop()
    } catch (err) {
      state.errors++
      fail(`unwatch: ${err.code}: ${err.message}`)
    }
    clearInterval(reporter)
    process.send({ soak: 'done', report: report() })
  })
}

if (cluster.isPrimary) master()
else worker()
