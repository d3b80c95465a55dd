'use strict'

// The master of one measurement: sets the peer up, forks W workers, holds
// them at a ready/go barrier, (E) keeps its own JS thread busy, collects the
// reports, (C) has the counter read back, makes every worker exit, and sends
// the figures to the orchestrator (measure.js) over its IPC channel.

const cluster = require('node:cluster')
const fs = require('node:fs')
const { PEERS, loadAdapter } = require('../peers')
const { WORKLOADS } = require('../workloads')
const { aggregate } = require('../aggregate')
const { foreignCpu } = require('../proc')
const { keepBusy } = require('./busy')
const { message, isOurs } = require('./messages')

const GO_DELAY_MS = 30 // lets the "go" message reach every worker before the start

async function run(spec) {
  const workload = WORKLOADS[spec.workload]
  const peer = PEERS[spec.peer]
  const workers = []
  const deadline = setTimeout(() => fail(new Error(`timed out after ${spec.timeoutMs} ms`)), spec.timeoutMs)
  const fail = (err) => finish({ error: String((err && err.message) || err) }, 1)

  const finish = (result, code) => {
    clearTimeout(deadline)
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL')
    if (spec.lmdbPath) fs.rmSync(spec.lmdbPath, { recursive: true, force: true })
    const done = () => process.exit(code)
    if (process.send) {
      try {
        process.send({ result }, done)
      } catch {
        done() // the orchestrator is gone
      }
    } else {
      console.log(JSON.stringify(result))
      done()
    }
  }

  try {
    if (peer.adapter === 'lmdb') spec = { ...spec, lmdbPath: fs.mkdtempSync('/dev/shm/sharedmemory-bench-') }
    await loadAdapter(spec.peer).primary({ ...spec, options: peer.options || {} })
    for (let i = 0; i < spec.workers; i++) {
      workers.push(cluster.fork({ BENCH_SPEC: JSON.stringify(spec), BENCH_INDEX: String(i) }))
    }
    const inbox = collect(workers)
    await inbox.all('ready')

    const cpu = foreignCpu(() => [process.pid, ...workers.map((w) => w.process.pid), ...(spec.redisPid ? [spec.redisPid] : [])])
    const goAt = Date.now() + GO_DELAY_MS
    const warmEnd = goAt + spec.warmupMs
    const end = warmEnd + spec.durationMs
    for (const w of workers) w.send(message('go', { warmEnd, end }))
    const busyShare = workload.busyMaster ? await keepBusy(workload.busyMaster, goAt, end) : undefined
    const reports = (await inbox.all('report')).map((m) => m.report)
    let final
    if (workload.final) {
      workers[0].send(message('final', { key: workload.final }))
      final = (await inbox.from(workers[0], 'final')).value
    }
    const foreignCpuPct = cpu.stop()
    for (const w of workers) w.send(message('exit'))
    await Promise.all(workers.map((w) => exited(w)))

    const figures = aggregate(reports, spec, final)
    finish({ ...figures, foreignCpuPct, busyShare }, 0)
  } catch (err) {
    fail(err)
  }
}

/** Our messages from the workers: waits for one of a type from each, or from one. */
function collect(workers) {
  const pending = [] // {worker, type, resolve}
  const queued = [] // {worker, msg}
  let failure = null
  const failAll = (err) => {
    failure = err
    for (const p of pending.splice(0)) p.reject(err)
  }
  for (const w of workers) {
    w.on('message', (msg) => {
      if (!isOurs(msg)) return
      if (msg.type === 'error') return failAll(new Error(msg.error))
      const i = pending.findIndex((p) => p.worker === w && p.type === msg.type)
      if (i >= 0) pending.splice(i, 1)[0].resolve(msg)
      else queued.push({ worker: w, msg })
    })
    w.on('exit', (code, signal) => {
      if (pending.some((p) => p.worker === w)) failAll(new Error(`worker ${w.id} exited early (${signal || code})`))
    })
  }
  const from = (worker, type) => {
    if (failure) return Promise.reject(failure)
    const i = queued.findIndex((q) => q.worker === worker && q.msg.type === type)
    if (i >= 0) return Promise.resolve(queued.splice(i, 1)[0].msg)
    return new Promise((resolve, reject) => pending.push({ worker, type, resolve, reject }))
  }
  return { from, all: (type) => Promise.all(workers.map((w) => from(w, type))) }
}

function exited(worker) {
  return worker.isDead() ? Promise.resolve() : new Promise((resolve) => worker.once('exit', resolve))
}

module.exports = { run }
