'use strict'

// The requests a backend sent and still waits for, each with its deadline,
// under one unref'd timer (nothing here keeps a process alive, unless made
// with keepAlive: then a process waiting for a reply stays alive for it). Used by
// the batching backend (lib/backends/batching.js); the wire format is not
// known here: the backend takes an entry out when its reply comes and
// settles it with `succeed` or `fail`.

class Pending {
  #timeout
  #timedOut
  #ordered = new Map() // id -> entry; all share the timeout, so insertion order is deadline order
  #patient = new Map() // the same, for requests with a deadline of their own (lock waits), in any order
  #timer = null
  #timerAt = Infinity
  #alive = null // with keepAlive: a timer that is ref'd while any entry waits
  #waiting = false

  /**
   * @param {number} timeout ms a request may wait for its reply
   * @param {(message: string) => Error} timedOut the error a request whose deadline passed fails with
   * @param {object} [options]
   * @param {boolean} [options.keepAlive] keep the process alive while a request waits: for a
   *   process that nothing else keeps alive for its requests (no IPC channel to a parent; the
   *   socket's reply thread does not hold the event loop), so `await memory.get(k)` in a short
   *   script gets its answer instead of the script ending first
   */
  constructor(timeout, timedOut, { keepAlive = false } = {}) {
    this.#timeout = timeout
    this.#timedOut = timedOut
    if (keepAlive) {
      this.#alive = setInterval(noop, 2 ** 30)
      this.#alive.unref()
    }
  }

  /**
   * Registers request `id` and answers its promise, settled through
   * `map`. `wait` (ms, may be Infinity) is how long it may wait on top of
   * the timeout, for a request that waits on others by design (a lock).
   */
  add(id, map, wait) {
    const own = wait !== undefined
    const deadline = performance.now() + this.#timeout + (own ? wait : 0)
    const entry = { resolve: null, reject: null, map, deadline, promise: null }
    entry.promise = new Promise((resolve, reject) => {
      entry.resolve = resolve
      entry.reject = reject
    })
    if (own) {
      this.#patient.set(id, entry)
      if (deadline < Infinity) this.#arm(deadline)
    } else {
      this.#ordered.set(id, entry)
      if (this.#ordered.size === 1) this.#arm(deadline)
    }
    if (this.#alive !== null && !this.#waiting) {
      this.#waiting = true
      this.#alive.ref()
    }
    return entry.promise
  }

  /** With keepAlive: once nothing waits, the process may end again. */
  #settle() {
    if (this.#waiting && this.#ordered.size === 0 && this.#patient.size === 0) {
      this.#waiting = false
      this.#alive.unref()
    }
  }

  /** How many requests wait for their replies. */
  get size() {
    return this.#ordered.size + this.#patient.size
  }

  /** Whether request `id` still waits for its reply. */
  has(id) {
    return this.#ordered.has(id) || this.#patient.has(id)
  }

  /** Takes the entry of request `id` out, if it still waits for its reply. */
  take(id) {
    const entry = this.#ordered.get(id)
    if (entry !== undefined) {
      this.#ordered.delete(id)
      if (this.#waiting) this.#settle()
      return entry
    }
    const patient = this.#patient.get(id)
    if (patient !== undefined) this.#patient.delete(id)
    if (this.#waiting) this.#settle()
    return patient
  }

  /** Fails every entry, each with its own `makeError()`. */
  failAll(makeError) {
    const entries = [...this.#ordered.values(), ...this.#patient.values()]
    this.#ordered.clear()
    this.#patient.clear()
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = Infinity
    if (this.#waiting) this.#settle()
    for (const entry of entries) fail(entry, makeError())
  }

  /** One timer, set for the earliest deadline that matters. */
  #arm(at) {
    if (at >= this.#timerAt) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - performance.now()) + 1)
    this.#timer.unref()
  }

  #expire() {
    this.#timer = null
    this.#timerAt = Infinity
    const now = performance.now()
    for (const [id, entry] of this.#ordered) {
      if (entry.deadline > now) break
      this.#ordered.delete(id)
      fail(entry, this.#timedOut(`no reply within ${this.#timeout} ms (the timeout option)`))
    }
    let nextPatient = Infinity
    for (const [id, entry] of this.#patient) {
      if (entry.deadline > now) {
        nextPatient = Math.min(nextPatient, entry.deadline)
        continue
      }
      this.#patient.delete(id)
      fail(entry, this.#timedOut('no answer from the store within the wait and the timeout option'))
    }
    if (nextPatient < Infinity) this.#arm(nextPatient)
    const next = this.#ordered.values().next()
    if (!next.done) this.#arm(next.value.deadline)
    if (this.#waiting) this.#settle()
  }
}

/** Resolves an entry with `value` passed through its map; a map that throws (a value that cannot be decoded) fails it. */
function succeed(entry, value) {
  try {
    entry.resolve(entry.map ? entry.map(value) : value)
  } catch (err) {
    fail(entry, err)
  }
}

/**
 * Rejects an entry's promise. A caller may have ignored the promise: it is
 * marked handled first, so that is never an unhandled rejection (a caller
 * that awaits it still gets the error). Done here, on failure only, so a
 * request that succeeds costs no extra promise.
 */
function fail(entry, err) {
  entry.promise.catch(noop)
  entry.reject(err)
}

/** A promise already rejected with `err`, and marked handled. */
function rejected(err) {
  const promise = Promise.reject(err)
  promise.catch(noop)
  return promise
}

function noop() {}

module.exports = { Pending, succeed, fail, rejected }
