'use strict'

// The Redis backend's near-cache (the nearCache option): values this
// process read lately, kept in its own memory and answered without a trip to
// Redis, and dropped as Redis's tracking invalidations say (CLIENT TRACKING
// with a redirect to the subscriber connection, src/redis/events.rs).
//
// Never serving a stale value once its invalidation arrived, and never
// resurrecting an older one, rests on four rules:
// - It serves only while the Rust side says invalidations flow (`#+`); on
//   any change of connection (`#-`: a reconnect, a failure, the subscriber
//   lost) everything goes, since invalidations may have been lost.
// - A read's answer is kept only if nothing invalidated its key while the
//   read was in flight (an invalidation may overtake the answer: they come
//   over two connections), and no `#-` came meanwhile (the epoch).
// - This process's own writes drop the key at once, before they are sent,
//   so it reads its own writes (invalidations of them come later).
// - Bounded: at most `max` entries and `maxBytes` bytes of value text,
//   least recently used first out.

class NearCache {
  #entries = new Map() // id → value text (JSON), in least recently used order
  #bytes = 0
  #max
  #maxBytes
  #serving = false
  #epoch = 0 // bumped by every flush: answers of reads begun before are not kept
  #inflight = new Map() // id → {reads, invalidated}
  hits = 0
  misses = 0

  constructor({ max, maxBytes }) {
    this.#max = max
    this.#maxBytes = maxBytes
  }

  get size() {
    return this.#entries.size
  }

  /** The cached text of `id`, or undefined (then read it from Redis). */
  lookup(id) {
    if (!this.#serving) return undefined
    const text = this.#entries.get(id)
    if (text === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    this.#entries.delete(id) // most recently used last
    this.#entries.set(id, text)
    return text
  }

  /** A read of `id` is sent: answers the token `keep` takes. */
  begin(id) {
    let flight = this.#inflight.get(id)
    if (!flight) this.#inflight.set(id, (flight = { reads: 0, invalidated: false }))
    flight.reads++
    return { id, epoch: this.#epoch, flight }
  }

  /** The read answered `text` (undefined: missing, or failed): kept if nothing invalidated it meanwhile. */
  end(token, text) {
    const { id, epoch, flight } = token
    if (--flight.reads === 0 && this.#inflight.get(id) === flight) this.#inflight.delete(id)
    if (text === undefined || flight.invalidated || epoch !== this.#epoch || !this.#serving) return
    this.#drop(id)
    this.#entries.set(id, text)
    this.#bytes += text.length
    while (this.#entries.size > this.#max || this.#bytes > this.#maxBytes) {
      this.#drop(this.#entries.keys().next().value)
    }
  }

  /** `id` changed (an invalidation, or this process writes it). */
  invalidate(id) {
    this.#drop(id)
    const flight = this.#inflight.get(id)
    if (flight) flight.invalidated = true
  }

  /** Everything goes, and no read in flight is kept. */
  flush() {
    this.#entries.clear()
    this.#bytes = 0
    this.#epoch++
  }

  /** A message of the Rust side: `#+`, `#-`, `#*` or `#` and a JSON array of ids. */
  receive(message) {
    if (message === '#+') this.#serving = true
    else if (message === '#-') {
      this.#serving = false
      this.flush()
    } else if (message === '#*') this.flush()
    else {
      let ids
      try {
        ids = JSON.parse(message.slice(1))
      } catch {
        return this.flush()
      }
      for (const id of ids) this.invalidate(id)
    }
  }

  #drop(id) {
    const text = this.#entries.get(id)
    if (text === undefined) return
    this.#entries.delete(id)
    this.#bytes -= text.length
  }
}

/** The id of a key in a namespace, as the Rust side writes it in invalidations. */
function nearId(ns, key) {
  return `${ns === null ? '' : JSON.stringify(ns)}\u0000${key}`
}

module.exports = { NearCache, nearId }
