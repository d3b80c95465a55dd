'use strict'

// Reads served from the segment the host publishes its store to (src/shm),
// mapped read-only in this process: a get answered without a message.
//
// The segment shows what the store holds (values, TTLs, sliding-expiry
// deadlines) but not how it is used: every read made here is written down
// and sent to the host later as a 'used' request (one per namespace), so
// LRU order, idle timers and hit/miss counts stay as if the read had gone
// through the host. At most MAX_USES keys wait at once; beyond them the
// backend sends them at once (a long run of sync reads), never drops them.
//
// The batching backend (lib/backends/batching.js) decides when a read may
// come from here: only while none of its own writes is in flight, so a
// process always reads its own writes.

const { SharedReader } = require('../binding')
const { Request } = require('./ops')

/** Keys read that may wait to be reported before they are sent. */
const MAX_USES = 1024

class SharedReads {
  #reader
  #uses = new Map() // namespace (null: the default one) → {hits: [key text], misses: n}
  #count = 0

  /** Maps the segment a host announced ({pid, fd}); null when it cannot be mapped (another host, a closed one). */
  static open(segment) {
    if (!segment || !Number.isInteger(segment.pid) || !Number.isInteger(segment.fd)) return null
    try {
      return new SharedReads(new SharedReader(segment.pid, segment.fd))
    } catch {
      return null
    }
  }

  constructor(reader) {
    this.#reader = reader
  }

  /**
   * The value text of `key` (JSON text) in namespace `ns`: a string, or
   * undefined when it is missing or expired; null when the segment cannot
   * answer (replaced, closed, a slot left locked): ask the host.
   */
  get(ns, key) {
    const text = this.peek(ns, key)
    if (text !== null) this.note(ns, key, text !== undefined)
    return text
  }

  /** Writes down a read of `key` in `ns` made with peek(): a hit when `found`, else a miss. */
  note(ns, key, found) {
    let uses = this.#uses.get(ns)
    if (uses === undefined) this.#uses.set(ns, (uses = { hits: [], misses: 0 }))
    if (!found) {
      uses.misses++
      return
    }
    uses.hits.push(key)
    this.#count++
  }

  /** As get(), but not a use: nothing is reported (has()). */
  peek(ns, key) {
    try {
      const text = this.#reader.get(ns === null ? key : JSON.stringify(ns) + key)
      return text === null ? undefined : text
    } catch {
      return null
    }
  }

  /** Unmaps the segment. */
  close() {
    this.#reader.close()
  }

  /** Takes every live entry of this segment (its host died) into `store` (a HostedStore); answers how many. */
  importInto(store) {
    return store.importFrom(this.#reader)
  }

  /** Whether so many reads wait to be reported that they should be sent now. */
  get full() {
    return this.#count >= MAX_USES
  }

  /** Whether reads wait to be reported. */
  get pending() {
    return this.#uses.size > 0
  }

  /** The reads made since the last call, as 'used' requests. */
  takeUses() {
    const requests = []
    for (const [ns, { hits, misses }] of this.#uses) {
      requests.push(new Request('used', ns, null, `{"hits":[${hits.join(',')}],"misses":${misses}}`))
    }
    this.#uses.clear()
    this.#count = 0
    return requests
  }
}

module.exports = { SharedReads, MAX_USES }
