'use strict'

// How a process joins a store it does not elect: links that the elected
// backend (lib/backends/elected.js) uses as it uses an election. Each has
// attempt() → {host, role} | {client, limits} | {retry: why}, resign(), and
// `current` (the socket {name, token} of the host found last).
//
//   ThreadLink   a worker_threads thread: what its main thread published
//                (lib/process-store.js): the process's own store, used
//                directly, or the socket of the host the process reaches.
//                Read again at each attempt, so after a host change the
//                thread follows its process.
//   ParentLink   a child_process.fork() child: the socket of the host its
//                parent uses (from SHAREDMEMORY_PARENT).

const { hostLimits } = require('./handshake')
const { HostedStore } = require('./hosted-store')
const { processPart } = require('./process-store')
const { SocketTransport } = require('./transports/socket')

class ThreadLink {
  #timeout
  #joined = null // the process's store, while this thread uses it directly
  current = null

  constructor({ timeout }) {
    this.#timeout = timeout
  }

  attempt() {
    const part = processPart()
    if (!part || part.info.state !== 'ready') return { retry: 'the main thread has not found the store yet' }
    const { info } = part
    if (part.hosted) {
      try {
        this.#joined = HostedStore.join()
        return { host: this.#joined, role: info.role, limits: info.limits }
      } catch (err) {
        return { retry: err.message } // withdrawn meanwhile
      }
    }
    return connect(this, info.socket, info.limits, this.#timeout)
  }

  /** close(): this thread's owner goes now (its locks pass on), not when the store object is collected. */
  resign() {
    if (this.#joined) this.#joined.leave()
    this.#joined = null
  }
}

class ParentLink {
  #timeout
  #socket
  #limits
  current = null

  constructor({ socket, limits }, { timeout }) {
    this.#socket = socket
    this.#limits = limits
    this.#timeout = timeout
  }

  attempt() {
    return connect(this, this.#socket, this.#limits, this.#timeout)
  }

  resign() {}
}

function connect(link, socket, limits, timeout) {
  if (!socket) return { retry: 'no socket to reach the host' }
  let client
  try {
    client = new SocketTransport(socket, { timeout })
  } catch (err) {
    return { retry: err.message }
  }
  link.current = socket
  return { client, limits: hostLimits(limits, socket) }
}

module.exports = { ThreadLink, ParentLink }
