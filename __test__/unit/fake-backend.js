'use strict'

// Test doubles for the unit specs, all in one process:
//
// - FakeBackend: a complete backend (the contract of lib/backend.js) over a
//   Map, answering on a microtask. It records every request it is given,
//   and each requestSync trip, so specs can check what the controller asks
//   for. It is also the smallest example of a backend.
// - fakeTransport: a transport for the batching backend that records the
//   batch texts it is given and lets the spec answer them.

const { capabilities } = require('../../lib/backend')
const { SharedMemoryError } = require('../../lib/errors')

class FakeBackend {
  transport = 'fake'
  serialization
  maxValueSize
  capabilities
  onWatchOverflow = null
  /** Every request given to request(), in order. */
  requests = []
  /** Every requestSync() trip: its array of requests. */
  syncTrips = []
  /** op → (request) => answer, to override how an op is answered; a throw fails the request. */
  answers = {}
  watches = new Map() // id → {pattern, ns, listener}
  data = new Map() // `${ns}\u0000${key text}` → value text
  #nextWatch = 1
  #closed = false

  constructor({ serialization = 'json', maxValueSize = 1024 * 1024, caps = {} } = {}) {
    this.serialization = serialization
    this.maxValueSize = maxValueSize
    this.capabilities = capabilities({ sync: true, atomicBatch: true, watchValues: true, ...caps })
  }

  ready() {
    return this.#closed ? Promise.reject(closed()) : Promise.resolve()
  }

  request(request) {
    this.requests.push(request)
    const promise = new Promise((resolve, reject) => {
      queueMicrotask(() => {
        try {
          const answer = this.#apply(request)
          resolve(request.map ? request.map(answer) : answer)
        } catch (err) {
          reject(err)
        }
      })
    })
    promise.catch(() => {}) // as the contract says: a caller may ignore a failure
    return promise
  }

  requestSync(requests) {
    if (!this.capabilities.sync) throw new SharedMemoryError('ERR_SYNC_UNAVAILABLE', 'sharedmemory: no sync here')
    this.syncTrips.push(requests)
    const answers = requests.map((request) => this.#apply(request))
    return answers.map((answer, i) => (requests[i].map ? requests[i].map(answer) : answer))
  }

  watch(pattern, ns, listener) {
    const id = this.#nextWatch++
    this.watches.set(id, { pattern, ns, listener })
    return { id, started: Promise.resolve() }
  }

  unwatch(id) {
    return Promise.resolve(this.watches.delete(id))
  }

  close() {
    this.#closed = true
    return Promise.resolve()
  }

  /** The store's answer to one request, as src/protocol.rs defines it (values parsed from their JSON text). */
  #apply(request) {
    if (this.#closed) throw closed()
    if (this.answers[request.op]) return this.answers[request.op](request)
    const slot = (keyText) => `${request.ns}\u0000${keyText}`
    switch (request.op) {
      case 'get': {
        const text = this.data.get(slot(request.key))
        return text === undefined ? undefined : JSON.parse(text)
      }
      case 'set':
        this.data.set(slot(request.key), request.arg)
        return undefined
      case 'del':
        return this.data.delete(slot(request.key))
      case 'has':
        return this.data.has(slot(request.key))
      case 'incr': {
        const text = this.data.get(slot(request.key))
        const next = (text === undefined ? 0 : JSON.parse(text)) + JSON.parse(request.arg)
        this.data.set(slot(request.key), JSON.stringify(next))
        return next
      }
      case 'mset':
        for (const [key, value] of JSON.parse(request.arg)) this.data.set(slot(JSON.stringify(key)), JSON.stringify(value))
        return undefined
      case 'mget':
        return JSON.parse(request.arg).map((key) => {
          const text = this.data.get(slot(JSON.stringify(key)))
          return text === undefined ? [0] : [1, JSON.parse(text)]
        })
      default:
        throw new SharedMemoryError('ERR_PROTOCOL', `sharedmemory: the fake backend does not do ${request.op}`)
    }
  }
}

function closed() {
  return new SharedMemoryError('ERR_CLOSED', 'sharedmemory: closed')
}

/**
 * A transport that keeps what it is sent. `sent` holds the async batches,
 * `syncSent` the sync ones; `syncReply(batch)` makes a sync reply (by
 * default every request done, `[id, 0]`). With `sync: false` it cannot
 * block, like the IPC transport.
 */
function fakeTransport({ sync = true, name = sync ? 'socket' : 'ipc' } = {}) {
  const transport = {
    name,
    backend: null,
    sent: [],
    syncSent: [],
    hellos: 0,
    open: true, // false: send() answers that the channel is closed
    attach(backend) {
      transport.backend = backend
    },
    send(batch) {
      transport.sent.push(batch)
      return transport.open
    },
    hello() {
      transport.hellos++
    },
    syncReply: (batch) => JSON.stringify(JSON.parse(batch).map(([id]) => [id, 0])),
    /** Hands `replies` (an array, or text) to the backend as a reply batch. */
    reply(replies) {
      transport.backend.receive(typeof replies === 'string' ? replies : JSON.stringify(replies))
    },
    /** The ids of the requests of async batch `i`. */
    ids(i) {
      return JSON.parse(transport.sent[i]).map((request) => request[0])
    },
  }
  if (sync) {
    transport.sendSync = (batch) => {
      transport.syncSent.push(batch)
      return transport.syncReply(batch)
    }
  }
  return transport
}

/** Resolves after everything queued for this turn (nextTick, promise reactions) has run. */
function turn() {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Keeps this test process alive until test `t` ends: the backends' timers
 * are unref'd, so a test that only waits for a deadline would otherwise
 * see its process exit first.
 */
function keepAlive(t) {
  const timer = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(timer))
}

module.exports = { FakeBackend, fakeTransport, turn, keepAlive }
