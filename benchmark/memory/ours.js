'use strict'

// Memory test for this package, run as its own cluster: the master hosts the
// store; one worker loads the entries with mset batches over the socket
// transport. The master's resident memory (VmRSS) is read before and after,
// each time after a full GC so its JS heap's garbage does not count.

const cluster = require('node:cluster')
const path = require('node:path')
const { rssBytes } = require('../proc')
const { BATCH, batch } = require('./data')

const ROOT = path.resolve(__dirname, '..', '..')
const entries = Number(process.env.BENCH_MEMORY_ENTRIES)
const sm = require(ROOT).init({ transport: 'socket' })

async function settle() {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function master() {
  const worker = cluster.fork()
  const next = (type) => new Promise((resolve) => worker.on('message', (m) => m && m.type === type && resolve(m)))
  await next('ready')
  await settle()
  const before = rssBytes(process.pid)
  const t0 = Date.now()
  worker.send({ type: 'load' })
  await next('loaded')
  const loadMs = Date.now() - t0
  await settle()
  const after = rssBytes(process.pid)
  const stats = await sm.stats()
  worker.send({ type: 'exit' })
  process.send({ result: { entries: stats.entries, storeBytes: stats.bytes, rssBefore: before, rssAfter: after, loadMs } }, () => process.exit(0))
}

async function worker() {
  await sm.ready()
  process.on('message', async (m) => {
    if (m.type === 'load') {
      for (let i = 0; i < entries; i += BATCH) await sm.mset(batch(i, Math.min(entries, i + BATCH)))
      process.send({ type: 'loaded' })
    }
    if (m.type === 'exit') process.exit(0)
  })
  process.send({ type: 'ready' })
}

if (cluster.isPrimary) master()
else worker()
