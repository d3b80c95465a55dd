'use strict'

// What a process keeps of the objects and arrays it read from the shared
// segment: per key, the value JSON.parse made of its text (never handed
// out: each read gets a fresh copy, lib/copies.js) and the version of the
// entry it was read from (segment generation, slot, slot state: see
// Reader::get_since in src/shm/reader.rs). The reader checks that version
// against the segment on every read, inside the same consistent read that
// tells whether the entry expired, so a value served from here is the one
// the segment holds at that moment, never an older one.
//
// A value is kept only once it was read twice at the same version: the
// first read notes only the version (a small entry), the second keeps
// the value. Keeping costs more than a parse (the shape is worked out,
// the kept objects live on into the old generation of the heap), so a
// key whose value changes between every two reads is parsed as it would
// be without the cache, for a few stores more.
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

/** What is held for one key: a version seen, and (once read twice at it) the value parsed at it. */
class Held {
  constructor(bytes, answer) {
    this.value = null // the parsed value, never given out; null: only the version is noted
    this.copy = null // value → a fresh copy of it
    this.tried = false // whether a copier was sought for the value at this version
    this.bytes = bytes
    this.note(answer)
  }

  /** Notes the version the reader wrote to answer[2..7]. */
  note(answer) {
    this.generationLow = answer[2]
    this.generationHigh = answer[3]
    this.slot = answer[4]
    this.stateLow = answer[5]
    this.stateHigh = answer[6]
  }

  /** Whether answer[2..7] is the version noted. */
  noted(answer) {
    return (
      this.stateLow === answer[5] &&
      this.slot === answer[4] &&
      this.stateHigh === answer[6] &&
      this.generationLow === answer[2] &&
      this.generationHigh === answer[3]
    )
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

  /** Entries held (values kept or versions noted). */
  get size() {
    return this.#plain.size + this.#named.size
  }

  /** Bytes charged. */
  get bytes() {
    return this.#bytes
  }

  /**
   * What is held for `key` of namespace `ns` (null: the default one), or
   * undefined. Its `copy` is null when no value is kept (only a version noted).
   */
  get(ns, key) {
    return ns === null ? this.#plain.get(key) : this.#named.get(named(ns, key))
  }

  /**
   * The value of JSON `text` just read for `key` of `ns` (`held`: what
   * get() answered before the read), at the version the reader wrote to
   * answer[2..7], as a value of the caller's own. Notes the version; keeps
   * the value (and hands out a copy) when it is the version noted before,
   * an object or array that fits.
   */
  take(ns, key, text, answer, held) {
    const value = JSON.parse(text)
    if (held === undefined) {
      this.#add(ns, key, new Held(charge(key, ''), answer))
      return value
    }
    if (held.copy !== null || !held.noted(answer)) {
      // A kept value changed, or the version noted did: note the new one.
      if (held.copy !== null) this.#forgetValue(held, key)
      held.note(answer)
      held.tried = false
      return value
    }
    // Read twice at this version: keep it, if it can be copied and fits.
    if (held.tried) return value
    held.tried = true
    const bytes = charge(key, text)
    if (bytes > this.#max) return value
    const copy = this.#copiers.of(value)
    if (copy === null) return value
    this.delete(ns, key)
    held.value = value
    held.copy = copy
    held.bytes = bytes
    this.#add(ns, key, held)
    return copy(value)
  }

  /** Forgets what is held for `key` of `ns` (it is missing, expired, or no longer an object). */
  delete(ns, key) {
    if (ns === null) this.#drop(this.#plain, key)
    else this.#drop(this.#named, named(ns, key))
  }

  /** Holds `held` for `key` of `ns`, as the newest, making room for it. */
  #add(ns, key, held) {
    while (this.#bytes + held.bytes > this.#max && this.size > 0) this.#evictOldest()
    if (this.#bytes + held.bytes > this.#max) return
    this.#bytes += held.bytes
    if (ns === null) this.#plain.set(key, held)
    else this.#named.set(named(ns, key), held)
  }

  /** Lets go of the value `held` keeps (for `key`), keeping it as a noted version. */
  #forgetValue(held, key) {
    const bytes = charge(key, '')
    this.#bytes -= held.bytes - bytes
    held.bytes = bytes
    held.value = null
    held.copy = null
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
