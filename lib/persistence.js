'use strict'

// A hosting process's persistence (the persist option): at start, the
// last snapshot is loaded into the store (after what was taken over from a
// dead host's shared segment, which is newer: src/snapshot/mod.rs, Fill)
// and a Rust thread writes a new one every `interval` while the store
// changes; when this process stops hosting (close(), or a graceful exit:
// lib/exit-hooks.js) it hands over: the store applies nothing more, and a
// last snapshot is written synchronously, before the socket name is given
// up, so the next host loads every write this one answered.
//
// Problems are reported once each, as a process warning carrying the code
// (ERR_SNAPSHOT_CORRUPT, ERR_SNAPSHOT_FAILED, ERR_SERIALIZATION_MISMATCH),
// and never stop the store: it serves, without the bad file (set aside as
// <path>.corrupt-<ms>) or without writing (a file it cannot read).

const fs = require('node:fs')

const { onGracefulExit } = require('./exit-hooks')

class Persistence {
  #native
  #path
  #removeHooks
  #handedOver = false
  /** What loading did: {restored, expired, skipped, code?, message?, persisting}. */
  loaded

  /**
   * Loads the snapshot into `native` (a NativeStore) and starts writing.
   * @param {object} persist {path, interval} (lib/config.js)
   * @param {string} serialization the store's
   */
  constructor(native, persist, serialization) {
    this.#native = native
    this.#path = persist.path
    this.loaded = native.persist({ path: persist.path, intervalMs: persist.interval, serialization }, (message) =>
      warn('ERR_SNAPSHOT_FAILED', `sharedmemory: ${message}; the store carries on, and tries again every ${persist.interval} ms`),
    )
    if (this.loaded.code) warn(this.loaded.code, `sharedmemory: ${this.loaded.message}`)
    this.#removeHooks = onGracefulExit((why) => this.handOver(why))
  }

  /**
   * Stops hosting for good: nothing more is applied to the store (a request
   * gets ERR_HOST_EXITED), and the last snapshot is written now. Once.
   */
  handOver(why = 'close') {
    if (this.#handedOver) return
    this.#handedOver = true
    this.#removeHooks()
    const failure = this.#native.handOver()
    if (failure === null) return
    const message = `sharedmemory: ${failure} (${this.#path}, at ${why}); writes since the previous snapshot are lost`
    // Ending now ('exit', or a signal raised again), a warning would never be printed (it waits for a later tick).
    if (why !== 'close' && why !== 'shutdown') fs.writeSync(2, `(sharedmemory) [ERR_SNAPSHOT_FAILED] ${message}\n`)
    else warn('ERR_SNAPSHOT_FAILED', message)
  }
}

function warn(code, message) {
  process.emitWarning(message, { type: 'SharedMemoryWarning', code })
}

module.exports = { Persistence }
