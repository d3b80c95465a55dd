'use strict'

// The cluster master in relay mode ({manager: id}): worker `id` hosts the
// store (ManagerHost, lib/host.js) and the master hosts nothing. It
// forwards every worker's request batches to the manager and the replies
// and pushes back, tagging each with the worker it came from (its
// "origin"; 0 is the master itself). Workers are welcomed once the manager
// has announced itself; when the manager exits, every worker is told the
// store is down (its data is lost).
//
// The master's own controller uses a BatchingBackend over `transport()`:
// its batches take the same path, with origin 0. When the manager offers a
// socket, the handshake (lib/handshake.js) switches that backend to it.

const cluster = require('node:cluster')

const { failBatch } = require('./native')
const { ChannelOutbox } = require('./channel-outbox')
const { seal, open, post } = require('./envelope')
const { announcement, join } = require('./handshake')

class RelayHost {
  #managerId
  #welcome = null // what the manager announced, once it has: the welcome workers get
  #managerGone = false
  #greeted = new Set() // ids of workers that said hello and are alive
  #outboxes = new Map() // worker id → what waits to be written to it
  #own = null // the master's own backend
  #ownOptions // {socket, timeout}: how the master's own backend joins

  /**
   * @param {object} options
   * @param {number} options.managerId the worker that hosts the store
   * @param {boolean} options.socket whether the master's own backend should use the manager's socket
   * @param {number} options.timeout
   */
  constructor({ managerId, socket, timeout }) {
    this.#managerId = managerId
    this.#ownOptions = { socket, timeout }
    cluster.on('message', (worker, message) => this.#onMessage(worker, message))
    cluster.on('exit', (worker) => this.#onExit(worker))
  }

  /** The transport of the master's own backend: its batches go to the manager like a worker's. */
  transport() {
    return {
      name: 'ipc',
      attach: (backend) => {
        this.#own = backend
      },
      send: (batch) => {
        this.#forward(batch, 0, (replies) => this.#own.receive(replies))
        return true
      },
      hello() {},
    }
  }

  #onMessage(worker, raw) {
    const message = open(raw)
    if (!message) return // the app's own message, or garbage: not ours to judge
    const fromManager = worker.id === this.#managerId
    switch (message.k) {
      case 'hello':
        this.#greeted.add(worker.id)
        if (this.#welcome) post(worker, seal('welcome', this.#welcome))
        break
      case 'req':
        this.#forward(message.b, worker.id, (replies) => this.#outboxOf(worker).reply(replies))
        break
      case 'hosting':
        if (fromManager && !this.#managerGone) this.#onManagerReady(worker, message)
        break
      case 'push':
      case 'res':
        if (fromManager && message.o !== undefined) this.#toOrigin(message.o, message.k, message.k === 'res' ? message.r : message.p)
        break
    }
  }

  #onManagerReady(manager, message) {
    const first = this.#welcome === null
    if (first) this.#welcome = announcement(message, message.socket, message.segment)
    post(manager, seal('welcome', this.#welcome)) // acknowledges 'hosting'
    if (!first) return
    for (const id of this.#greeted) {
      const worker = cluster.workers[id]
      if (worker) post(worker, seal('welcome', this.#welcome))
    }
    // The master's own calls are checked against the manager's serialization too.
    if (this.#own) join(this.#own, this.#welcome, this.#ownOptions)
  }

  /** Sends a batch to the manager, or answers it with an error at once. */
  #forward(batch, origin, reply) {
    const manager = this.#welcome ? cluster.workers[this.#managerId] : undefined
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
   * What the manager sent back for `origin` (a reply batch, kind 'res', or
   * a push, kind 'push'), to that worker, or to the master itself (0).
   */
  #toOrigin(origin, kind, text) {
    if (origin === 0) {
      if (this.#own) this.#own.receive(text)
      return
    }
    const worker = cluster.workers[origin]
    if (!worker) return
    const outbox = this.#outboxOf(worker)
    if (kind === 'res') outbox.reply(text)
    else outbox.push(text)
  }

  /** What waits to be written to `worker` (lib/channel-outbox.js). */
  #outboxOf(worker) {
    let outbox = this.#outboxes.get(worker.id)
    if (!outbox) this.#outboxes.set(worker.id, (outbox = new ChannelOutbox(worker)))
    return outbox
  }

  #onExit(worker) {
    this.#greeted.delete(worker.id)
    this.#outboxes.delete(worker.id)
    if (worker.id !== this.#managerId) {
      const manager = this.#welcome ? cluster.workers[this.#managerId] : undefined
      if (manager) post(manager, seal('gone', { o: worker.id })) // its locks pass on, its watches end
      return
    }
    if (this.#managerGone) return
    this.#managerGone = true
    this.#welcome = null
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

module.exports = { RelayHost }
