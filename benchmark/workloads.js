'use strict'

// The five workloads: what each worker does between the "go" signal and the
// end of the measured window. Every loop runs until `ctx.end` (an absolute
// Date.now() time the master chose for all workers) and counts only the
// operations that complete inside [ctx.warmEnd, ctx.end).
//
// Each loop answers a report for the master (see aggregate.js):
//   ops      operations completed in the window
//   bad      reads that did not answer the value written for that key
//   hist     latency histogram (A only)
//   issued   C: increments applied by this worker in total (warm-up included)

const { performance } = require('node:perf_hooks')
const data = require('./data')
const { Histogram } = require('./histogram')

const COUNTER_KEY = 'bench:counter'
const BIG_KEYS = 8

/** A: every SAMPLE-th get is timed, and the clock read (see sequentialGet). */
const SAMPLE = 16

/**
 * A: one get at a time, of a random preloaded key. With `sync`,
 * getSync() (sharedmemory getSync, lmdb get): the loop then never awaits,
 * so it runs without a turn of the event loop between calls.
 *
 * A get from shared memory takes a few hundred nanoseconds, about what two
 * performance.now() calls, a Date.now() and a histogram record take
 * together: timing every get measured the loop as much as the store. So
 * every SAMPLE-th get is timed (the latency histogram is of those) and the
 * window checked; every get is counted and its value checked.
 */
async function sequentialGet(client, ctx, sync) {
  const hist = new Histogram()
  const { values, hot } = WORKLOADS[ctx.spec.workload]
  const keys = hot || ctx.spec.keys // a hot set: the first `hot` of the preloaded keys
  let ops = 0
  let bad = 0
  let counting = false
  for (let n = 0, now = Date.now(); now < ctx.end; n++) {
    const i = data.randomIndex(keys)
    let v
    if (n % SAMPLE === 0) {
      const t0 = performance.now()
      v = sync ? client.getSync(data.key(i)) : await client.get(data.key(i))
      const t1 = performance.now()
      now = Date.now()
      counting = now >= ctx.warmEnd && now < ctx.end
      if (counting) hist.record((t1 - t0) * 1000)
    } else {
      v = sync ? client.getSync(data.key(i)) : await client.get(data.key(i))
    }
    if (counting) {
      ops++
      if (!data.isValue(i, v, values)) bad++
    }
  }
  return { ops, bad, hist }
}

/** B and E: `depth` lanes, each one request in flight: 90 % get, 10 % set. */
async function mixed(client, ctx) {
  const keys = ctx.spec.keys
  let ops = 0
  let bad = 0
  let version = 0
  const lane = async () => {
    for (let now = Date.now(); now < ctx.end; ) {
      const i = data.randomIndex(keys)
      if (Math.random() < 0.1) {
        await client.set(data.key(i), data.value(i, ++version))
      } else if (!data.isValue(i, await client.get(data.key(i)))) {
        bad++
      }
      now = Date.now()
      if (now >= ctx.warmEnd && now < ctx.end) ops++
    }
  }
  await Promise.all(Array.from({ length: ctx.spec.depth }, lane))
  return { ops, bad }
}

/** C: awaited increments of one shared key, one at a time, from every worker. */
async function counter(client, ctx) {
  let ops = 0
  let issued = 0
  for (let now = Date.now(); now < ctx.end; ) {
    await client.incr(COUNTER_KEY)
    issued++
    now = Date.now()
    if (now >= ctx.warmEnd && now < ctx.end) ops++
  }
  return { ops, bad: 0, issued }
}

/** D: 100 KiB strings, set then get, over 8 keys of this worker's own. */
async function bigValues(client, ctx) {
  const size = ctx.spec.bigSize
  const value = data.bigString(size, `w${ctx.index}`)
  let ops = 0
  let bad = 0
  for (let n = 0, now = Date.now(); now < ctx.end; n++) {
    const key = `big:${ctx.index}:${n % BIG_KEYS}`
    await client.set(key, value)
    const v = await client.get(key)
    if (typeof v !== 'string' || v.length !== size) bad++
    now = Date.now()
    if (now >= ctx.warmEnd && now < ctx.end) ops += 2
  }
  return { ops, bad, bytesPerOp: size }
}

const WORKLOADS = {
  A: {
    title: 'sequential get, 1 in flight per worker',
    unit: 'ops/s',
    latency: true,
    preload: true,
    run: (client, ctx) => sequentialGet(client, ctx, Boolean(ctx.peer.sync)),
  },
  AS: {
    title: 'A with ~100-character string values (no JSON object to parse)',
    unit: 'ops/s',
    latency: true,
    preload: true,
    values: 'string',
    run: (client, ctx) => sequentialGet(client, ctx, Boolean(ctx.peer.sync)),
  },
  AH: {
    title: 'A over a hot set: 1k of 100k preloaded keys (10 × --keys), ~100 B JSON',
    unit: 'ops/s',
    latency: true,
    preload: true,
    keysTimes: 10,
    hot: 1000,
    run: (client, ctx) => sequentialGet(client, ctx, Boolean(ctx.peer.sync)),
  },
  B: {
    title: '64 in flight per worker, 90% get / 10% set, 10k keys, ~100 B JSON',
    unit: 'ops/s',
    preload: true,
    run: mixed,
  },
  C: {
    title: 'awaited increments of one shared key from every worker',
    unit: 'incr/s',
    final: COUNTER_KEY,
    run: counter,
  },
  D: {
    title: '100 KiB values, set then get',
    unit: 'MB/s',
    run: bigValues,
  },
  E: {
    title: 'B while the master JS thread is busy 200 ms of every 250 ms',
    unit: 'ops/s',
    preload: true,
    busyMaster: { busyMs: 200, periodMs: 250 },
    run: mixed,
  },
}

module.exports = { WORKLOADS, COUNTER_KEY }
