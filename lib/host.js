'use strict'

// The hosting side of cluster IPC: the processes that hold the store.
//
// - MasterHost: in the cluster master that hosts the store. It welcomes
//   workers (lib/handshake.js) and answers their request batches from the
//   store.
// - ManagerHost: in the manager worker of relay mode ({manager: id}). It
//   announces itself to the master and answers the batches the master
//   forwards, from its store.
//
// The master of relay mode, which hosts nothing and forwards, is
// lib/relay.js. The hosting process's own calls do not come through here:
// its controller uses the DirectBackend (lib/backends/direct.js).
//
// Neither keeps per-request state: a reply batch is addressed by the
// worker id it came from. Each worker is an owner of the store (see
// hosted-store.js), so the locks it holds and the watches it started end
// when it exits, and what the store pushes to it is posted to it.
// A reply batch lacks the requests answered later (a lock that has to
// wait); their answers come as pushes.

const cluster = require('node:cluster')

const { ChannelOutbox } = require('./channel-outbox')
const { seal, open, post } = require('./envelope')
const { announcement, keepAsking } = require('./handshake')

const RETRY_MS = [25, 50, 100, 200, 400, 800, 1000]

class MasterHost {
  /**
   * @param {object} options
   * @param {import('./hosted-store').HostedStore} options.store
   * @param {number} options.maxValueSize
   * @param {string} options.serialization
   * @param {boolean} options.socket whether to serve the store on a socket too
   */
  constructor({ store, maxValueSize, serialization, socket }) {
    const welcome = announcement({ maxValueSize, serialization }, socket ? store.listen() : null, store.segment())
    /** What workers are welcomed with (forked children of this process connect to its socket too). */
    this.announced = welcome
    const outboxes = new Map() // worker id → what waits to be written to it (lib/channel-outbox.js)
    const outboxOf = (worker) => {
      let outbox = outboxes.get(worker.id)
      if (!outbox) outboxes.set(worker.id, (outbox = new ChannelOutbox(worker)))
      return outbox
    }
    // What the store pushes to a worker it serves over IPC.
    const pushTo = (workerId, message) => {
      const worker = cluster.workers[workerId]
      if (worker) outboxOf(worker).push(message)
    }
    const onMessage = (worker, raw) => {
      const message = open(raw)
      if (!message) return // the app's own message, or garbage: not ours to judge
      if (message.k === 'hello') post(worker, seal('welcome', welcome))
      else if (message.k === 'req') {
        outboxOf(worker).reply(store.applyBatch(message.b, store.ownerOf(worker.id, pushTo)))
      }
    }
    const onExit = (worker) => {
      outboxes.delete(worker.id)
      store.forget(worker.id)
    }
    cluster.on('message', onMessage)
    cluster.on('exit', onExit)
    this.#stop = () => {
      cluster.off('message', onMessage)
      cluster.off('exit', onExit)
      store.stopServing()
      // Every worker's pending requests fail now, and later ones at once.
      const down = seal('down', { code: 'ERR_HOST_EXITED', message: 'the master closed the store (close())' })
      for (const worker of Object.values(cluster.workers ?? {})) if (worker) post(worker, down)
    }
  }

  #stop

  /** Stops serving: the socket closes, workers are told the store is gone, their later hellos go unanswered. */
  close() {
    const stop = this.#stop
    this.#stop = null
    if (stop) stop()
  }
}

class ManagerHost {
  /** Options as MasterHost's. */
  constructor({ store, maxValueSize, serialization, socket }) {
    const hosting = announcement({ maxValueSize, serialization }, socket ? store.listen() : null, store.segment())
    /** What the master is told (forked children of this process connect to its socket too). */
    this.announced = hosting
    let acknowledged = false
    // Each process the master relays for (origin: a worker id, or 0 for the master) is an owner of
    // the store; its pushes go back through the master.
    const pushBack = (origin, message) => post(process, seal('push', { p: message, o: origin }))
    process.on('message', (raw) => {
      const message = open(raw)
      if (!message) return
      if (message.k === 'req' && message.o !== undefined) {
        post(process, seal('res', { r: store.applyBatch(message.b, store.ownerOf(message.o, pushBack)), o: message.o }))
      } else if (message.k === 'gone') {
        store.forget(message.o)
      } else if (message.k === 'welcome') {
        acknowledged = true
      }
    })
    // Tells the master this worker hosts the store, until the master answers
    // (it may call init() after this worker started).
    keepAsking(RETRY_MS, () => {
      if (acknowledged) return false
      post(process, seal('hosting', hosting))
      return true
    })
  }
}

/**
 * In a cluster primary whose store is elected by name (a PM2 fork-mode
 * instance that runs its own cluster, or init({name})): its own workers,
 * which call init() and say hello over cluster IPC, are welcomed with the
 * socket of the elected host (this process, or the one it reaches), and
 * connect to it directly. Over transport 'ipc' they are not served.
 */
class ElectedDoor {
  #stop

  /** @param {() => ({limits, socket} | null)} current the elected host's limits and socket, once known */
  constructor(current) {
    const onMessage = (worker, raw) => {
      const message = open(raw)
      if (!message || message.k !== 'hello') return
      const found = current()
      if (found) post(worker, seal('welcome', announcement(found.limits, found.socket)))
    }
    cluster.on('message', onMessage)
    this.#stop = () => cluster.off('message', onMessage)
  }

  close() {
    this.#stop()
  }
}

module.exports = { MasterHost, ManagerHost, ElectedDoor }
