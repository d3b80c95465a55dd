'use strict'

// The public API: what init() returns, in every process. Each method
// checks and encodes its arguments, hands one request to the client, and
// reports the outcome through the returned Promise and, when given, a
// callback.

const { EventEmitter } = require('node:events')

const { encodeKey, encodeValue } = require('./codec')

const ok = () => 'OK'
const noop = () => {}

class Controller extends EventEmitter {
  #client
  #errorFirst
  #warned = new Set()

  constructor(client, { role, callbackStyle }) {
    super()
    this.#client = client
    this.#errorFirst = callbackStyle === 'error-first'
    /** 'master', 'worker' or 'manager' (the worker hosting the store in relay mode). */
    this.role = role
  }

  /**
   * set(key, value[, cb]) stores a value; set(object[, cb]) stores every
   * own property. A value of undefined removes the key. Answers 'OK'.
   */
  set(key, value, callback) {
    if (key !== null && typeof key === 'object' && !Array.isArray(key)) {
      return this.#call(value, () => this.#setMany(key))
    }
    return this.#call(callback, () => {
      if (value === undefined) return this.#request('del', key, '0', ok)
      return this.#request('set', key, encodeValue(value, this.#client.maxValueSize), ok)
    })
  }

  /** Answers the value, or undefined when the key is missing. */
  get(key, callback) {
    return this.#call(callback, () => this.#request('get', key, '0'))
  }

  /** Removes the key (no trace is left). Answers 'OK'. */
  remove(key, callback) {
    return this.#call(callback, () => this.#request('del', key, '0', ok))
  }

  /** Atomically adds 1 to the number under key (missing counts as 0). Answers the new number. */
  plusOne(key, callback) {
    return this.#call(callback, () => this.#request('incr', key, '1'))
  }

  #request(op, key, arg, map) {
    return this.#client.request(op, encodeKey(key), arg, map)
  }

  #setMany(object) {
    const pairs = []
    const removals = []
    for (const key of Object.keys(object)) {
      const value = object[key]
      if (value === undefined) removals.push(key)
      else pairs.push(`[${encodeKey(key)},${encodeValue(value, this.#client.maxValueSize)}]`)
    }
    // Everything is queued in this turn, so it travels, and is applied, as one batch.
    const done = []
    if (pairs.length > 0) done.push(this.#client.request('mset', 'null', `[${pairs.join(',')}]`))
    for (const key of removals) done.push(this.#request('del', key, '0'))
    return Promise.all(done).then(ok)
  }

  /** Runs `start`, turning a throw into a rejection, and wires up the callback. */
  #call(callback, start) {
    let promise
    try {
      promise = start()
    } catch (err) {
      promise = Promise.reject(err)
    }
    // A caller may ignore the promise: that must never be an unhandled rejection.
    promise.catch(noop)
    if (typeof callback === 'function') {
      promise.then(
        (value) => process.nextTick(this.#errorFirst ? () => callback(null, value) : () => callback(value)),
        (err) => process.nextTick(this.#errorFirst ? () => callback(err) : () => this.#report(err)),
      )
    }
    return promise
  }

  /**
   * Value-style callbacks (`cb(value)`, as in 0.0.7) have no error slot, so
   * their failures are emitted as 'error' on the controller; with no
   * listener, each error code is printed once as a process warning.
   */
  #report(err) {
    if (this.listenerCount('error') > 0) {
      this.emit('error', err)
    } else if (!this.#warned.has(err.code)) {
      this.#warned.add(err.code)
      process.emitWarning(
        `${err.message} (a callback was not called; listen to the controller's 'error' event to handle this)`,
        { type: 'SharedMemoryWarning', code: err.code },
      )
    }
  }
}

module.exports = { Controller }
