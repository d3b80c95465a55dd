'use strict'

// Reads served from the segment the host publishes its store to (src/shm),
// mapped read-only in this process: a get answered without a message.
//
// The segment shows what the store holds (values, TTLs, sliding-expiry
// deadlines) but not how it is used: the reader (SharedReader, in Rust)
// writes each read down (the entry as a use, at most once per window, and
// every hit and miss, counted per namespace), and the backend sends that
// report to the host as a 'used' request after the turn, so LRU order,
// idle timers and hit/miss counts stay as if the host had served the
// reads (src/shm/report.rs). A long run of sync reads sends it once it is
// full, never drops it.
//
// The batching backend (lib/backends/batching.js) decides when a read may
// come from here: only while nothing else of its process is in flight, so
// a read never overtakes an earlier call (and a process reads its own writes).

const { NOT_READ } = require('./backend')
const { defaults } = require('./config')
const { SharedReader } = require('./native')
const { Request } = require('./ops')
const { ReadCache } = require('./read-cache')

// What the reader's read function answered (SharedReader.readFunction, src/binding/reader.rs).
const VALUE = 0
const JSON_TEXT = 1
const MISSING = 2
const UNCHANGED = 4
// The answer array's words past the answer: whether a version is held, then the version.
const HELD = 1
const ANSWER_WORDS = 7

/** Characters of value text whose parsed objects a process keeps by default (the sharedReadCache option). */
const READ_CACHE_BYTES = defaults.sharedReadCache

/** How long a reader may wait before it tells the host again that an entry is read (ms), unless the host says. */
const USE_WINDOW_MS = 1000

class SharedReads {
  #reader
  #answer = new Int32Array(ANSWER_WORDS)
  #readKey // (key, ns?) => value, the raw napi function of the reader: its answer in #answer[0]
  #cache // ReadCache of the objects and arrays read, or null (off)

  /**
   * Maps the segment a host announced ({pid, fd, window}); null when it
   * cannot be mapped (another host, a closed one). With the host's
   * `socket` ({name, token}), its descriptor is passed over the socket
   * (SCM_RIGHTS, after the same user and token checks as any connection);
   * without (a worker on cluster IPC, whose host serves no socket), it is
   * opened as /proc/<pid>/fd/<fd>, which the kernel allows only to a
   * process of the same user that may trace the host. `cacheBytes`: how
   * much value text the objects and arrays kept to answer repeated reads
   * without JSON.parse may come from (0: none kept).
   */
  static open(segment, socket = null, cacheBytes = READ_CACHE_BYTES) {
    if (!segment || !Number.isInteger(segment.pid) || !Number.isInteger(segment.fd)) return null
    const window = typeof segment.window === 'number' && segment.window > 0 ? segment.window : USE_WINDOW_MS
    const over = socket && typeof socket.name === 'string' && typeof socket.token === 'string' ? socket : null
    try {
      const reader = new SharedReader(segment.pid, segment.fd, window, over && over.name, over && over.token)
      return new SharedReads(reader, cacheBytes)
    } catch {
      return null
    }
  }

  constructor(reader, cacheBytes = READ_CACHE_BYTES) {
    this.#reader = reader
    this.#readKey = reader.readFunction(this.#answer)
    this.#cache = cacheBytes > 0 ? new ReadCache(cacheBytes) : null
  }

  /**
   * The value of string key `key` in namespace `ns` (a name, or null),
   * decoded from its JSON text (a 'json' store's value); undefined when
   * it is missing or expired. The read is written down as get()'s are.
   * NOT_READ when it is not answered this way (a key with characters
   * JSON escapes, a segment that cannot answer): take get().
   */
  read(ns, key) {
    const cache = this.#cache
    const answer = this.#answer
    // An object or array kept from an earlier read is answered from the
    // cache (a fresh copy each time) while the segment still holds the
    // version it was parsed from; what is parsed is kept.
    const held = cache === null || cache.size === 0 ? undefined : cache.get(ns, key)
    if (held === undefined || held.copy === null) {
      answer[HELD] = 0 // (a version only noted, no value kept: the text is wanted)
    } else {
      answer[HELD] = 1
      answer[2] = held.generationLow
      answer[3] = held.generationHigh
      answer[4] = held.slot
      answer[5] = held.stateLow
      answer[6] = held.stateHigh
    }
    const value = ns === null ? this.#readKey(key) : this.#readKey(key, ns)
    switch (answer[0]) {
      case UNCHANGED:
        return held.copy(held.value)
      case JSON_TEXT:
        return cache === null ? JSON.parse(value) : cache.take(ns, key, value, answer, held)
      case VALUE:
        if (held !== undefined) cache.delete(ns, key)
        return value
      case MISSING:
        if (held !== undefined) cache.delete(ns, key)
        return undefined
      default:
        return NOT_READ
    }
  }

  /**
   * The value text of `key` (JSON text) in namespace `ns`: a string, or
   * undefined when it is missing or expired; null when the segment cannot
   * answer (replaced, closed, a slot left locked): ask the host.
   */
  get(ns, key) {
    return this.#read('get', ns, key)
  }

  /** As get(), but not a read to report (has()). */
  peek(ns, key) {
    return this.#read('peek', ns, key)
  }

  /**
   * What ttl() answers for `key` in `ns`: -2 (missing or expired), -1 (no
   * TTL) or the ms left; null when the segment cannot answer (as get(),
   * and always with idle expiry, whose deadlines are not TTLs): ask the host.
   */
  ttl(ns, key) {
    try {
      return this.#reader.ttl(ns === null ? key : JSON.stringify(ns) + key)
    } catch {
      return null
    }
  }

  #read(how, ns, key) {
    try {
      const text = this.#reader[how](ns === null ? key : JSON.stringify(ns) + key)
      return text === null ? undefined : text
    } catch {
      return null
    }
  }

  /**
   * Moves to the host's current generation if the segment was outgrown
   * (one load when it was not). Called whenever a reply arrives: the host
   * is alive then, so the descriptor is asked for while it can answer,
   * not at the next read, which may come while it is busy or stopped.
   */
  refresh() {
    try {
      this.#reader.refresh()
    } catch {}
  }

  /** Whether so many reads wait to be reported that they should be sent now. */
  get full() {
    return this.#reader.usesFull
  }

  /** The reads since the last call, as a 'used' request; null when there were none. */
  takeUses() {
    const report = this.#reader.takeUses()
    return report === null || report === undefined ? null : new Request('used', null, null, report)
  }

  /** Drops the entries read since the last report (recency stays as it was), keeping the hit and miss counts. */
  forgetUses() {
    this.#reader.forgetUses()
  }

  /** Unmaps the segment. */
  close() {
    this.#reader.close()
  }

  /** Takes every live entry of this segment (its host died) into `store` (a HostedStore); answers how many. */
  importInto(store) {
    return store.importFrom(this.#reader)
  }
}

module.exports = { SharedReads, USE_WINDOW_MS, READ_CACHE_BYTES }
