'use strict'

// The backend of the process that hosts the store (the master, or the
// manager worker in relay mode): requests go straight into the Rust store
// (lib/hosted-store.js), in this thread, with no IPC and no handshake.
//
// It keeps the batching backend's queue rather than calling the store once
// per request: the store's one entry point is a batch of text
// (NativeStore.applyBatch, see binding.d.ts), and batching keeps what the
// hosting process's own calls mean the same as a worker's: the requests of
// one turn are applied in order as one step under the store's lock, their
// replies come asynchronously (on the flush, after the turn), and a sync
// call first applies what is queued. What it skips is the transport and the
// handshake: it serves from the start, and sync calls always work.

const { BatchingBackend } = require('./batching')

class DirectBackend extends BatchingBackend {
  /**
   * @param {import('../hosted-store').HostedStore} store
   * @param {object} options timeout, connectTimeout, maxValueSize, serialization, and onClose
   *   (what close() also does: the master stops serving its workers)
   */
  constructor(store, { timeout, connectTimeout, maxValueSize, serialization, onClose = null }) {
    const limits = { maxValueSize, serialization }
    // keepAlive: most replies come at once, but a lock that must wait is answered later by a push,
    // and nothing else holds this process's event loop for it (the push callback is weak).
    super(storeTransport(store), { timeout, connectTimeout, serialization, ready: limits, onClose, keepAlive: true })
  }
}

/** The store as a transport: a batch is applied as it is sent, and its replies are received at once. */
function storeTransport(store) {
  let backend = null
  return {
    name: 'local',
    attach(attached) {
      backend = attached
      // What the store pushes to this process (locks granted later, watch events).
      store.onLocalPush((message) => attached.receive(message))
    },
    send(batch) {
      // Closed by the thread that made it: a thread that joined it looks for the store again.
      if (store.retired) return false
      backend.receive(store.applyBatch(batch))
      return true
    },
    sendSync(batch) {
      return store.applyBatch(batch)
    },
    hello() {},
  }
}

module.exports = { DirectBackend, storeTransport }
