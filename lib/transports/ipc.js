'use strict'

// A worker's link to the master over Node's cluster IPC channel
// (`process.send`), inside our envelope. It finds the host (hello/welcome,
// see lib/handshake.js), and carries batches itself unless the host offers
// a socket, which the handshake then switches the backend to before the
// first request leaves.

const { seal, open, post } = require('../envelope')
const { join, keepAsking } = require('../handshake')

const HELLO_RETRY_MS = [25, 50, 100, 200, 400, 800]
const HELLO_MIN_GAP_MS = 1000

class IpcTransport {
  name = 'ipc'
  #backend = null
  #useSocket
  #timeout
  #stopHello = null
  #lastHello = -Infinity
  /** The host's welcome, once it came. */
  welcome = null

  constructor({ socket, timeout }) {
    this.#useSocket = socket
    this.#timeout = timeout
  }

  #listeners = null

  attach(backend) {
    this.#backend = backend
    this.#listeners = {
      message: (message) => this.#onMessage(message),
      disconnect: () => backend.down('ERR_HOST_EXITED', 'the master closed the IPC channel (it exited or called disconnect())'),
    }
    process.on('message', this.#listeners.message)
    process.on('disconnect', this.#listeners.disconnect)
    // While connecting, greet a few times with growing gaps.
    this.#stopHello = keepAsking(HELLO_RETRY_MS, () => {
      if (backend.state !== 'connecting') return false
      post(process, seal('hello', {}))
      this.#lastHello = performance.now()
      return true
    })
  }

  send(batch) {
    return post(process, seal('req', { b: batch }))
  }

  /**
   * Stops listening on the IPC channel (so it no longer keeps this process
   * alive on our account) and greeting; the channel itself is the app's.
   */
  close() {
    if (this.#stopHello) this.#stopHello()
    if (!this.#listeners) return
    process.off('message', this.#listeners.message)
    process.off('disconnect', this.#listeners.disconnect)
    this.#listeners = null
  }

  /** Asks the master (again) whether it serves the store; at most once a second. */
  hello() {
    const now = performance.now()
    if (now - this.#lastHello < HELLO_MIN_GAP_MS) return
    this.#lastHello = now
    post(process, seal('hello', {}))
  }

  #onMessage(raw) {
    const message = open(raw)
    if (!message) return
    if (message.k === 'res' || message.k === 'push') this.#backend.receive(message.k === 'res' ? message.r : message.p)
    else if (message.k === 'welcome') {
      this.welcome = message // what the host announced (this process's threads and forked children use its socket too)
      this.#stopHello()
      join(this.#backend, message, { socket: this.#useSocket, timeout: this.#timeout })
    } else if (message.k === 'down') this.#backend.down(message.code, message.message)
  }
}

module.exports = { IpcTransport }
