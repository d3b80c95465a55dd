'use strict'

// What a process keeps of the objects and arrays it read from the shared
// segment: per key, the value JSON.parse made of its text (never handed
// out: each read gets a fresh copy, lib/copies.js) and the version of the
// entry it was read from (segment generation, slot, slot state: see
// Reader::get_since in src/shm/reader.rs). The reader checks that version
// against the segment on every read, inside the same consistent read that
// finds the key and checks its expiry, so a value served from here is the
// one the segment holds at that moment, never an older one.
//
// Bounded by an estimate of the heap it takes: twice the value text's
// length (an object of short strings and numbers that JSON.parse made
// takes about that: 372 bytes for the benchmark's 130-character objects),
// plus the key and a fixed charge per entry; past the bound the entries
// kept the longest go first.

const { Copiers } = require('./copies')

/** What an entry is charged beyond its value (and its key), in bytes: the version, the map's entry, bookkeeping. */
const ENTRY_BYTES = 96
/** Bytes of heap charged per character of value text. */
const PER_CHARACTER = 2

class Held {
  constructor(value, copy, bytes, answer) {
    this.value = value // the parsed value, never given out
    this.copy = copy // value → a fresh copy of it
    this.bytes = bytes
    this.generationLow = answer[2]
    this.generationHigh = answer[3]
    this.slot = answer[4]
    this.stateLow = answer[5]
    this.stateHigh = answer[6]
  }
}

class ReadCache {
  #max
  #bytes = 0
  #plain = new Map() // key → Held, for the default namespace
  #named = new Map() // `${ns.length}:${ns}${key}` → Held
  #copiers = new Copiers()

  /** Holds at most `maxBytes` bytes, as estimated (see charge()). */
  constructor(maxBytes) {
    this.#max = maxBytes
  }

  /** Entries held. */
  get size() {
    return this.#plain.size + this.#named.size
  }

  /** Bytes charged. */
  get bytes() {
    return this.#bytes
  }

  /** What is held for `key` of namespace `ns` (null: the default one), or undefined. */
  get(ns, key) {
    return ns === null ? this.#plain.get(key) : this.#named.get(named(ns, key))
  }

  /**
   * The value of JSON `text` just read for `key` of `ns`, at the version
   * the reader wrote to answer[2..7], as a value of the caller's own; kept
   * (a copy handed out) when it is an object or array that fits.
   */
  take(ns, key, text, answer) {
    const value = JSON.parse(text)
    const map = ns === null ? this.#plain : this.#named
    const at = ns === null ? key : named(ns, key)
    this.#drop(map, at)
    const bytes = charge(key, text)
    if (bytes > this.#max) return value
    const copy = this.#copiers.of(value)
    if (copy === null) return value
    while (this.#bytes + bytes > this.#max && this.size > 0) this.#evictOldest()
    this.#bytes += bytes
    map.set(at, new Held(value, copy, bytes, answer))
    return copy(value)
  }

  /** Forgets what is held for `key` of `ns` (it is missing, expired, or no longer an object). */
  delete(ns, key) {
    if (ns === null) this.#drop(this.#plain, key)
    else this.#drop(this.#named, named(ns, key))
  }

  #drop(map, at) {
    const held = map.get(at)
    if (held === undefined) return
    map.delete(at)
    this.#bytes -= held.bytes
  }

  /** Drops the entry held longest of the default namespace's, else of the others'. */
  #evictOldest() {
    const from = this.#plain.size > 0 ? this.#plain : this.#named
    const oldest = from.keys().next()
    if (!oldest.done) this.#drop(from, oldest.value)
  }
}

/** The bytes an entry for `key` with value text `text` is estimated to take. */
function charge(key, text) {
  return PER_CHARACTER * text.length + key.length + ENTRY_BYTES
}

/** The cache key of `key` in namespace `ns` (length-prefixed: no two pairs meet). */
function named(ns, key) {
  return `${ns.length}:${ns}${key}`
}

module.exports = { ReadCache, charge }
