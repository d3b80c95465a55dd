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
// worker id it came from, so a worker that exits leaves nothing behind.

const cluster = require('node:cluster')

const { failBatch } = require('../binding')
const { seal, open, post } = require('./envelope')
const { listen, tryConnect } = require('./transports/socket')

const RETRY_MS = [25, 50, 100, 200, 400, 800, 1000]

class MasterHost {
  #store // NativeStore, or null in relay mode
  #managerId // worker id hosting the store in relay mode, else null
  #managerReady = false
  #managerGone = false
  #greeted = new Set() // ids of workers that said hello and are alive
  #maxValueSize
  #socket // {name, token} workers may connect to, or null
  #own = null // the master's own client, in relay mode
  #ownOptions // {socket, timeout}: how the master's own client connects, in relay mode

  constructor({ store, managerId, maxValueSize, socket, timeout }) {
    this.#store = store
    this.#managerId = managerId
    this.#maxValueSize = maxValueSize
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
        if (this.#store) post(worker, seal('res', { r: this.#store.applyBatch(message.b) }))
        else this.#forward(message.b, worker.id, (replies) => post(worker, seal('res', { r: replies })))
        break
      case 'hosting':
        if (worker.id === this.#managerId && !this.#managerGone) this.#onManagerReady(worker, message)
        break
      case 'res':
        if (worker.id === this.#managerId && message.o !== undefined) this.#deliver(message.o, message.r)
        break
    }
  }

  #serving() {
    return this.#store !== null || this.#managerReady
  }

  #welcome(worker) {
    const welcome = { maxValueSize: this.#maxValueSize }
    if (this.#socket) welcome.socket = this.#socket
    post(worker, seal('welcome', welcome))
  }

  #onManagerReady(manager, message) {
    this.#welcome(manager) // acknowledges 'hosting'
    if (this.#managerReady) return
    this.#managerReady = true
    this.#maxValueSize = message.maxValueSize
    this.#socket = message.socket || null
    for (const id of this.#greeted) {
      const worker = cluster.workers[id]
      if (worker) this.#welcome(worker)
    }
    if (this.#own) {
      const socket = this.#ownOptions.socket && tryConnect(this.#socket, this.#ownOptions)
      if (socket) this.#own.useTransport(socket)
      this.#own.ready({ maxValueSize: this.#maxValueSize })
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

  #deliver(origin, replies) {
    if (origin === 0) {
      if (this.#own) this.#own.receive(replies)
      return
    }
    const worker = cluster.workers[origin]
    if (worker) post(worker, seal('res', { r: replies }))
  }

  #onExit(worker) {
    this.#greeted.delete(worker.id)
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

  constructor({ store, maxValueSize, socket }) {
    const hosting = { maxValueSize }
    if (socket) {
      const served = listen(store)
      if (served) hosting.socket = served
    }
    process.on('message', (raw) => {
      const message = open(raw)
      if (!message) return
      if (message.k === 'req' && message.o !== undefined) {
        post(process, seal('res', { r: store.applyBatch(message.b), o: message.o }))
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
