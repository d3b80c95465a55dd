'use strict'

// A worker of one measurement: opens the peer, preloads the keys (worker 0
// only), says "ready", waits for "go", runs the workload, reports, reads
// the counter back when asked (C), and exits when told to. Should its master
// go away first, the worker exits too: cluster ends a worker whose IPC
// channel to the master closes.

const cluster = require('node:cluster')
const { PEERS, loadAdapter } = require('../peers')
const { WORKLOADS } = require('../workloads')
const data = require('../data')
const { message, isOurs } = require('./messages')

async function run(spec) {
  const index = Number(process.env.BENCH_INDEX)
  const peer = PEERS[spec.peer]
  const workload = WORKLOADS[spec.workload]
  const inbox = mailbox()
  let client = null
  try {
    client = await loadAdapter(spec.peer).worker({ ...spec, options: peer.options || {}, index })
    if (workload.preload && index === 0) await preload(client, spec.keys * (workload.keysTimes || 1), workload.values)
    process.send(message('ready'))
    const go = await inbox.next('go')
    const report = await workload.run(client, { spec, peer, index, warmEnd: go.warmEnd, end: go.end })
    process.send(message('report', { report: { ...report, hist: report.hist ? report.hist.toJSON() : undefined } }))
    for (;;) {
      const cmd = await inbox.next()
      if (cmd.type === 'final') process.send(message('final', { value: await client.get(cmd.key) }))
      if (cmd.type === 'exit') break
    }
  } catch (err) {
    process.send(message('error', { error: `worker ${index}: ${(err && err.stack) || err}` }))
  }
  await closeQuietly(client)
  process.exit(0)
}

async function preload(client, count, kind) {
  const pairs = data.entries(count, kind)
  if (client.preload) return client.preload(pairs)
  for (let i = 0; i < pairs.length; i += 64) {
    await Promise.all(pairs.slice(i, i + 64).map(([k, v]) => client.set(k, v)))
  }
}

/** The master's messages to this worker, in order. */
function mailbox() {
  const queue = []
  const waiting = []
  process.on('message', (msg) => {
    if (!isOurs(msg)) return
    if (waiting.length) waiting.shift()(msg)
    else queue.push(msg)
  })
  return {
    async next(type) {
      const msg = queue.length ? queue.shift() : await new Promise((resolve) => waiting.push(resolve))
      if (type && msg.type !== type && msg.type === 'exit') throw new Error(`told to exit while waiting for ${type}`)
      return msg
    },
  }
}

async function closeQuietly(client) {
  if (!client || !client.close) return
  const timer = new Promise((resolve) => setTimeout(resolve, 2000).unref())
  await Promise.race([Promise.resolve().then(() => client.close()).catch(() => {}), timer])
}

if (!cluster.isWorker) throw new Error('worker.js runs in cluster workers only')

module.exports = { run }
