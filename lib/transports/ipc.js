'use strict'

// A worker's link to the master over Node's cluster IPC channel
// (`process.send`), inside our envelope. It finds the host (hello/welcome),
// and carries batches itself unless the host offers a socket, which it
// then switches the client to before the first request leaves.

const { seal, open, post } = require('../envelope')
const { tryConnect } = require('./socket')

const HELLO_RETRY_MS = [25, 50, 100, 200, 400, 800]
const HELLO_MIN_GAP_MS = 1000

class IpcTransport {
  name = 'ipc'
  #client = null
  #useSocket
  #timeout
  #helloTimer = null
  #helloAttempt = 0
  #lastHello = -Infinity

  constructor({ socket, timeout }) {
    this.#useSocket = socket
    this.#timeout = timeout
  }

  attach(client) {
    this.#client = client
    process.on('message', (message) => this.#onMessage(message))
    process.on('disconnect', () =>
      client.down('ERR_HOST_EXITED', 'the master closed the IPC channel (it exited or called disconnect())'),
    )
    this.#greet()
  }

  send(batch) {
    return post(process, seal('req', { b: batch }))
  }

  /** Asks the master (again) whether it serves the store; at most once a second. */
  hello() {
    const now = performance.now()
    if (now - this.#lastHello < HELLO_MIN_GAP_MS) return
    this.#lastHello = now
    post(process, seal('hello', {}))
  }

  // While connecting, greet a few times with growing gaps: a master that
  // calls init() after forking misses the first hello.
  #greet() {
    this.#helloTimer = null
    if (this.#client.state !== 'connecting') return
    post(process, seal('hello', {}))
    this.#lastHello = performance.now()
    const delay = HELLO_RETRY_MS[Math.min(this.#helloAttempt++, HELLO_RETRY_MS.length - 1)]
    this.#helloTimer = setTimeout(() => this.#greet(), delay)
    this.#helloTimer.unref()
  }

  #onMessage(raw) {
    const message = open(raw)
    if (!message) return
    if (message.k === 'res' || message.k === 'push') this.#client.receive(message.k === 'res' ? message.r : message.p)
    else if (message.k === 'welcome') {
      if (this.#helloTimer) clearTimeout(this.#helloTimer)
      // A host with another `serialization` is not used at all (not even connected to).
      if (this.#client.refuses(message.serialization)) return
      if (this.#client.state !== 'ready' && this.#useSocket) {
        const socket = tryConnect(message.socket, { timeout: this.#timeout })
        if (socket) this.#client.useTransport(socket)
      }
      this.#client.ready({ maxValueSize: message.maxValueSize, serialization: message.serialization })
    } else if (message.k === 'down') this.#client.down(message.code, message.message)
  }
}

module.exports = { IpcTransport }
