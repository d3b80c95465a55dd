'use strict'

// The serving side of cluster IPC.
//
// - MasterHost: in the cluster master. It answers workers' request batches
//   from its own store or, in relay mode ({manager: id}), forwards them to
//   the manager worker and its replies back.
// - ManagerHost: in the manager worker of relay mode. It answers the
//   batches the master forwards, from the manager's store.
//
// Neither keeps per-request state: a reply batch is addressed by the
// worker id it came from. Each worker is an owner of the store (see
// hosted-store.js), so the locks it holds and the watches it started end
// when it exits, and what the store pushes to it is posted to it.
// A reply batch lacks the requests answered later (a lock that has to
// wait); their answers come as pushes.

const cluster = require('node:cluster')

const { failBatch } = require('../binding')
const { seal, open, post } = require('./envelope')
const { listen, tryConnect } = require('./transports/socket')

const RETRY_MS = [25, 50, 100, 200, 400, 800, 1000]

/** What the store pushes to a worker it serves over IPC. */
function pushTo(workerId, message) {
  const worker = cluster.workers[workerId]
  if (worker) post(worker, seal('push', { p: message }))
}

class MasterHost {
  #store // NativeStore, or null in relay mode
  #managerId // worker id hosting the store in relay mode, else null
  #managerReady = false
  #managerGone = false
  #greeted = new Set() // ids of workers that said hello and are alive
  #maxValueSize
  #serialization // how the store's values are encoded: this process's option, or in relay mode the manager's
  #socket // {name, token} workers may connect to, or null
  #own = null // the master's own client, in relay mode
  #ownOptions // {socket, timeout}: how the master's own client connects, in relay mode

  constructor({ store, managerId, maxValueSize, serialization, socket, timeout }) {
    this.#store = store
    this.#managerId = managerId
    this.#maxValueSize = maxValueSize
    this.#serialization = serialization
    this.#socket = store && socket ? listen(store) : null
    this.#ownOptions = { socket, timeout }
    cluster.on('message', (worker, message) => this.#onMessage(worker, message))
    cluster.on('exit', (worker) => this.#onExit(worker))
  }

  /** The transport the master's own controller uses in relay mode. */
  relayTransport() {
    const host = this
    return {
      name: 'ipc',
      attach(client) {
        host.#own = client
      },
      send(batch) {
        host.#forward(batch, 0, (replies) => host.#own.receive(replies))
        return true
      },
      hello() {},
    }
  }

  #onMessage(worker, raw) {
    const message = open(raw)
    if (!message) return // the app's own message, or garbage: not ours to judge
    switch (message.k) {
      case 'hello':
        this.#greeted.add(worker.id)
        if (this.#serving()) this.#welcome(worker)
        break
      case 'req':
        if (this.#store) {
          const owner = this.#store.ownerOf(worker.id, pushTo)
          post(worker, seal('res', { r: this.#store.applyBatch(message.b, owner) }))
        } else this.#forward(message.b, worker.id, (replies) => post(worker, seal('res', { r: replies })))
        break
      case 'push':
        if (worker.id === this.#managerId && message.o !== undefined) this.#toOrigin(message.o, 'push', message.p)
        break
      case 'hosting':
        if (worker.id === this.#managerId && !this.#managerGone) this.#onManagerReady(worker, message)
        break
      case 'res':
        if (worker.id === this.#managerId && message.o !== undefined) this.#toOrigin(message.o, 'res', message.r)
        break
    }
  }

  #serving() {
    return this.#store !== null || this.#managerReady
  }

  #welcome(worker) {
    const welcome = { maxValueSize: this.#maxValueSize, serialization: this.#serialization }
    if (this.#socket) welcome.socket = this.#socket
    post(worker, seal('welcome', welcome))
  }

  #onManagerReady(manager, message) {
    this.#welcome(manager) // acknowledges 'hosting'
    if (this.#managerReady) return
    this.#managerReady = true
    this.#maxValueSize = message.maxValueSize
    this.#serialization = message.serialization // undefined from an older manager: workers take it as 'json'
    this.#socket = message.socket || null
    for (const id of this.#greeted) {
      const worker = cluster.workers[id]
      if (worker) this.#welcome(worker)
    }
    if (this.#own) {
      // The master's own calls are checked against the manager's serialization too.
      if (this.#own.refuses(this.#serialization)) return
      const socket = this.#ownOptions.socket && tryConnect(this.#socket, this.#ownOptions)
      if (socket) this.#own.useTransport(socket)
      this.#own.ready({ maxValueSize: this.#maxValueSize, serialization: this.#serialization })
    }
  }

  /** Relay mode: sends a batch to the manager, or answers it with an error at once. */
  #forward(batch, origin, reply) {
    const manager = this.#managerReady ? cluster.workers[this.#managerId] : undefined
    if (manager && post(manager, seal('req', { b: batch, o: origin }))) return
    reply(
      failBatch(
        batch,
        'ERR_NO_HOST',
        `worker ${this.#managerId} (the manager) is not serving the store${this.#managerGone ? ': it exited' : ' yet'}`,
      ),
    )
  }

  /**
   * Relay mode: what the manager sent back for `origin` (a reply batch, kind
   * 'res', or a push, kind 'push'), to that worker, or to the master itself (0).
   */
  #toOrigin(origin, kind, text) {
    if (origin === 0) {
      if (this.#own) this.#own.receive(text)
      return
    }
    const worker = cluster.workers[origin]
    if (worker) post(worker, seal(kind, kind === 'res' ? { r: text } : { p: text }))
  }

  #onExit(worker) {
    this.#greeted.delete(worker.id)
    if (this.#store) this.#store.forget(worker.id)
    if (this.#managerReady && worker.id !== this.#managerId) {
      const manager = cluster.workers[this.#managerId]
      if (manager) post(manager, seal('gone', { o: worker.id }))
    }
    if (worker.id !== this.#managerId || this.#managerGone) return
    this.#managerGone = true
    this.#managerReady = false
    const down = {
      code: 'ERR_HOST_EXITED',
      message: `worker ${this.#managerId}, which hosted the store ({manager: ${this.#managerId}}), exited; its data is lost`,
    }
    for (const id of this.#greeted) {
      const other = cluster.workers[id]
      if (other) post(other, seal('down', down))
    }
    if (this.#own) this.#own.down(down.code, down.message)
  }
}

class ManagerHost {
  #acknowledged = false
  #attempt = 0

  constructor({ store, maxValueSize, serialization, socket }) {
    const hosting = { maxValueSize, serialization }
    if (socket) {
      const served = listen(store)
      if (served) hosting.socket = served
    }
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
        this.#acknowledged = true
      }
    })
    this.#announce(hosting)
  }

  // Tells the master this worker hosts the store, until the master answers
  // (it may call init() after this worker started).
  #announce(hosting) {
    if (this.#acknowledged) return
    post(process, seal('hosting', hosting))
    const timer = setTimeout(() => this.#announce(hosting), RETRY_MS[Math.min(this.#attempt++, RETRY_MS.length - 1)])
    timer.unref()
  }
}

module.exports = { MasterHost, ManagerHost }
