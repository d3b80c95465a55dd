'use strict'

// The public API: what init() returns, in every process. Each method
// checks and encodes its arguments into one request (op, key, arg, and how
// to shape the answer), then hands it to the client: asynchronously, with a
// Promise and an optional callback, or synchronously for the *Sync forms.

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

  /** How this process reaches the store: 'local' (it hosts it), 'socket' or 'ipc'. */
  get transport() {
    return this.#client.transportName
  }

  /** Resolves once the store is reachable and sync calls can be made. */
  ready() {
    const promise = this.#client.whenReady()
    promise.catch(noop)
    return promise
  }

  /**
   * set(key, value[, cb]) stores a value; set(object[, cb]) stores every
   * own property. A value of undefined removes the key. Answers 'OK'.
   */
  set(key, value, callback) {
    if (isEntries(key)) return this.#call(value, () => this.#setMany(key))
    return this.#call(callback, () => this.#client.request(...this.#setRequest(key, value)))
  }

  setSync(key, value) {
    if (isEntries(key)) return this.#setManySync(key)
    return this.#client.requestSync(...this.#setRequest(key, value))
  }

  /** Answers the value, or undefined when the key is missing. */
  get(key, callback) {
    return this.#call(callback, () => this.#client.request(...getRequest(key)))
  }

  getSync(key) {
    return this.#client.requestSync(...getRequest(key))
  }

  /** Removes the key (no trace is left). Answers 'OK'. */
  remove(key, callback) {
    return this.#call(callback, () => this.#client.request(...removeRequest(key)))
  }

  removeSync(key) {
    return this.#client.requestSync(...removeRequest(key))
  }

  /** Atomically adds 1 to the number under key (missing counts as 0). Answers the new number. */
  plusOne(key, callback) {
    return this.#call(callback, () => this.#client.request(...plusOneRequest(key)))
  }

  plusOneSync(key) {
    return this.#client.requestSync(...plusOneRequest(key))
  }

  #setRequest(key, value) {
    if (value === undefined) return removeRequest(key)
    return ['set', encodeKey(key), encodeValue(value, this.#client.maxValueSize), ok]
  }

  // set(object): one 'mset' request for the values, a 'del' for each
  // undefined. Queued together, they travel and are applied as one batch.
  #manyRequests(object) {
    const pairs = []
    const requests = []
    for (const key of Object.keys(object)) {
      const value = object[key]
      if (value === undefined) requests.push(removeRequest(key))
      else pairs.push(`[${encodeKey(key)},${encodeValue(value, this.#client.maxValueSize)}]`)
    }
    if (pairs.length > 0) requests.unshift(['mset', 'null', `[${pairs.join(',')}]`, ok])
    return requests
  }

  #setMany(object) {
    const requests = this.#manyRequests(object)
    return Promise.all(requests.map((request) => this.#client.request(...request))).then(ok)
  }

  #setManySync(object) {
    for (const request of this.#manyRequests(object)) this.#client.requestSync(...request)
    return 'OK'
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

function isEntries(key) {
  return key !== null && typeof key === 'object' && !Array.isArray(key)
}

function getRequest(key) {
  return ['get', encodeKey(key), '0']
}

function removeRequest(key) {
  return ['del', encodeKey(key), '0', ok]
}

function plusOneRequest(key) {
  return ['incr', encodeKey(key), '1']
}

module.exports = { Controller }
