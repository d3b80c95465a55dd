'use strict'

// The fast transport: batches go over a local socket straight to Rust
// threads in the hosting process, so they never wait for its JavaScript
// event loop. Synchronous calls use it too. Set up by the hosting process
// with `listen`; workers learn the socket's name and token over cluster IPC.

const crypto = require('node:crypto')

const { NativeClient } = require('../../binding')

class SocketTransport {
  name = 'socket'
  #native
  #client = null

  /** Connects to a socket announced by the host; throws if it cannot. */
  constructor({ name, token }, { timeout }) {
    this.#native = new NativeClient(name, token, timeout, (replies) => {
      if (replies === null || replies === undefined) {
        this.#client.down('ERR_HOST_EXITED', 'the socket to the process serving the store closed (it exited)')
      } else {
        this.#client.receive(replies)
      }
    })
  }

  attach(client) {
    this.#client = client
  }

  send(batch) {
    return this.#native.send(batch)
  }

  /** Blocks until the reply batch arrives (or fails every request of the batch). */
  sendSync(batch, timeout) {
    return this.#native.request(batch, timeout)
  }

  hello() {}
}

/**
 * Serves `store` on a new socket and answers what workers need to connect:
 * an unguessable name and token. Answers null (IPC is then used) when the
 * socket cannot be set up.
 */
function listen(store) {
  const socket = {
    name: `sharedmemory-${process.pid}-${crypto.randomBytes(8).toString('hex')}`,
    token: crypto.randomBytes(32).toString('hex'),
  }
  try {
    store.serveSocket(socket.name, socket.token)
    return socket
  } catch (err) {
    process.emitWarning(`sharedmemory: ${err.message}; workers will use cluster IPC`, 'SharedMemoryWarning')
    return null
  }
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

module.exports = { SocketTransport, listen, tryConnect }
