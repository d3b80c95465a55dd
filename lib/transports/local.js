'use strict'

// The transport of the process that hosts the store: a batch goes straight
// into the Rust store, in this thread, with no IPC.

class LocalTransport {
  name = 'local'
  #store
  #client = null

  constructor(store) {
    this.#store = store
  }

  attach(client) {
    this.#client = client
    // What the store pushes to this process (locks granted later, watch events).
    this.#store.onLocalPush((message) => client.receive(message))
  }

  send(batch) {
    this.#client.receive(this.#store.applyBatch(batch))
    return true
  }

  sendSync(batch) {
    return this.#store.applyBatch(batch)
  }

  hello() {}
}

module.exports = { LocalTransport }
