'use strict'

// What controller.lock() answers: a held lock (see src/locks.rs).

class Lock {
  #release
  #extend

  /** Made by the controller; `release()` and `extend(lease)` send the requests. */
  constructor(key, token, { release, extend }) {
    /** The key the lock was taken on. */
    this.key = key
    /**
     * The fencing token: larger than that of every earlier grant of any
     * lock, so a resource can refuse a holder whose lease ran out.
     */
    this.token = token
    this.#release = release
    this.#extend = extend
  }

  /** Lets the lock go → whether this holder still had it (false once its lease ran out). */
  release(callback) {
    return withCallback(this.#release(), callback)
  }

  /** Gives the holder a new lease of `lease` ms from now → whether it still had the lock. */
  extend(lease, callback) {
    return withCallback(this.#extend(lease), callback)
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

module.exports = { Lock }
