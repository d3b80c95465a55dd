'use strict'

// What controller.lock() answers: a held lock (see src/locks.rs).
//
// A lock lives in the store's host. When that host goes (it exited, was
// killed, or closed; a store elected by name then moves to a new host), the
// locks held there are gone: the holder's backend tells each Lock it held
// (LOSE), which emits 'lost' once, and release() and extend() then answer
// false without asking anyone.

const { EventEmitter } = require('node:events')

/** Called by the backend on each lock it held when the host went away. */
const LOSE = Symbol('lose')

class Lock extends EventEmitter {
  #release
  #extend
  #lost = false

  /** Made by the controller; `release()` and `extend(lease)` send the requests. */
  constructor(key, token, { release, extend }) {
    super()
    /** The key the lock was taken on. */
    this.key = key
    /**
     * The fencing token: larger than that of every earlier grant of any
     * lock, on this host and on every earlier host of the store (an epoch
     * is part of it), so a resource can refuse a holder whose lease ran out.
     */
    this.token = token
    this.#release = release
    this.#extend = extend
  }

  /** Whether the host this lock was held on went away (then 'lost' was emitted). */
  get lost() {
    return this.#lost
  }

  /** Lets the lock go → whether this holder still had it (false once its lease ran out, or it was lost). */
  release(callback) {
    return withCallback(this.#lost ? Promise.resolve(false) : this.#release(), callback)
  }

  /** Gives the holder a new lease of `lease` ms from now → whether it still had the lock. */
  extend(lease, callback) {
    return withCallback(this.#lost ? Promise.resolve(false) : this.#extend(lease), callback)
  }

  /** The host went away: `err` (ERR_HOST_EXITED) says why. */
  [LOSE](err) {
    if (this.#lost) return
    this.#lost = true
    this.emit('lost', err)
  }
}

function withCallback(promise, callback) {
  promise.catch(() => {})
  if (typeof callback === 'function') {
    promise.then(
      (value) => process.nextTick(() => callback(null, value)),
      (err) => process.nextTick(() => callback(err)),
    )
  }
  return promise
}

module.exports = { Lock, LOSE }
