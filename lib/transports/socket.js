'use strict'

// The fast transport: batches go over a local socket straight to Rust
// threads in the hosting process, so they never wait for its JavaScript
// event loop. Synchronous calls use it too. The hosting process serves the
// socket (HostedStore.listen, lib/hosted-store.js); workers learn its name
// and token at the handshake (lib/handshake.js).

const { NativeClient } = require('../native')

class SocketTransport {
  name = 'socket'
  #native
  #backend = null

  /** Connects to a socket announced by the host; throws if it cannot. */
  constructor({ name, token }, { timeout }) {
    this.#native = new NativeClient(name, token, timeout, (replies) => {
      const backend = this.#backend
      if (!backend) return // detached or closed: what comes late is for nobody
      if (replies === null || replies === undefined) {
        this.#backend = null // the connection is over: nothing more comes
        backend.down('ERR_HOST_EXITED', 'the socket to the process serving the store closed (it exited)')
      } else {
        backend.receive(replies)
      }
    })
  }

  attach(backend) {
    this.#backend = backend
  }

  /** The backend moved on (to another host): nothing this connection reports reaches it any more. */
  detach() {
    this.#backend = null
  }

  /** Closes the connection; the backend is not told (it closed it). */
  close() {
    this.#backend = null
    this.#native.close()
  }

  send(batch) {
    return this.#native.send(batch)
  }

  /** Batches sent and not answered yet (a host that stopped reading leaves them in the socket). */
  unanswered() {
    return this.#native.unanswered
  }

  /** Blocks until the reply batch arrives (or fails every request of the batch). */
  sendSync(batch, timeout) {
    return this.#native.request(batch, timeout)
  }

  hello() {}
}

/** Connects to `socket` if there is one, else answers null (with a warning when connecting failed). */
function tryConnect(socket, options) {
  if (!socket) return null
  try {
    return new SocketTransport(socket, options)
  } catch (err) {
    process.emitWarning(`sharedmemory: ${err.message}; using cluster IPC instead`, 'SharedMemoryWarning')
    return null
  }
}

module.exports = { SocketTransport, tryConnect }
