'use strict'

// The public API: what init() returns, in every process, and what ns()
// returns. Every operation is one entry of the `operations` table below:
// it turns the caller's arguments into request(s) for the client (op, key,
// arg and options as JSON text, and how to shape the answer). Each entry
// becomes two methods: `name(...args[, callback])`, answering a Promise,
// and `nameSync(...args)`, answering the value itself.

const { EventEmitter } = require('node:events')

const { encodeKey, encodeValue } = require('./codec')
const { SharedMemoryError } = require('./errors')

const ok = () => 'OK'
const noop = () => {}
const identity = (value) => value

/**
 * name → [how many leading arguments are required, build(args) → requests].
 * A function after the required arguments is the callback (so a function
 * given as a value is refused as a value, never taken for a callback).
 * `this` is the controller, for encoding values and adding its namespace.
 */
const operations = {
  /** get(key) → the value, or undefined. */
  get: [1, function (key) {
    return [this.request('get', encodeKey(key), '0')]
  }],
  /**
   * set(key, value[, {ttl, nx, xx}]) → 'OK', or with nx/xx whether it stored.
   * set(object) stores every own property at once. undefined removes the key.
   */
  set: [(key) => (isEntries(key) ? 1 : 2), function (key, value, options) {
    if (isEntries(key)) return this.entries(key, value === undefined ? undefined : options)
    if (value === undefined) return [this.request('del', encodeKey(key), '0', ok)]
    const { ttl, nx, xx } = checkOptions(options, ['ttl', 'nx', 'xx'])
    if (nx && xx) throw invalid('set() takes nx or xx, not both')
    const answer = nx || xx ? identity : ok
    return [this.request('set', encodeKey(key), this.encode(value), answer, { ttl, nx, xx })]
  }],
  /** mset(object[, {ttl}]) → 'OK': every own property, all or none. */
  mset: [1, function (object, options) {
    if (!isEntries(object)) throw invalid('mset() takes an object of key/value pairs')
    return this.entries(object, options)
  }],
  /** mget(keys) → their values, undefined where missing. */
  mget: [1, function (keys) {
    if (!Array.isArray(keys)) throw invalid('mget() takes an array of keys')
    const rows = (rows) => rows.map((row) => (row[0] === 1 ? row[1] : undefined))
    return [this.request('mget', 'null', `[${keys.map(encodeKey).join(',')}]`, rows)]
  }],
  /** remove(key) → 'OK' (the 0.0.7 name). */
  remove: [1, function (key) {
    return [this.request('del', encodeKey(key), '0', ok)]
  }],
  /** delete(key) → whether the key existed. */
  delete: [1, function (key) {
    return [this.request('del', encodeKey(key), '0')]
  }],
  /** has(key) → whether the key exists (does not count as a use). */
  has: [1, function (key) {
    return [this.request('has', encodeKey(key), '0')]
  }],
  /** plusOne(key) → the new number (the 0.0.7 name of incr(key)). */
  plusOne: [1, function (key) {
    return [this.request('incr', encodeKey(key), '1')]
  }],
  /** incr(key[, by = 1][, {ttl}]) → the new number. A ttl applies only when this creates the key. */
  incr: [1, function (key, by, options) {
    return [this.request('incr', encodeKey(key), amount(by), identity, checkOptions(options, ['ttl']))]
  }],
  /** decr(key[, by = 1][, {ttl}]) → the new number. */
  decr: [1, function (key, by, options) {
    return [this.request('incr', encodeKey(key), amount(by, -1), identity, checkOptions(options, ['ttl']))]
  }],
  /** getSet(key, value) → the old value (or undefined); the new one has no TTL. */
  getSet: [2, function (key, value) {
    if (value === undefined) throw invalid('getSet() needs a value; delete() removes a key')
    return [this.request('getset', encodeKey(key), this.encode(value))]
  }],
  /**
   * compareAndSet(key, expected, next) → whether it stored `next`: only if the
   * stored value's JSON is exactly JSON.stringify(expected), or, with
   * expected undefined, only if the key is missing.
   */
  compareAndSet: [3, function (key, expected, next) {
    if (next === undefined) throw invalid('compareAndSet() needs a next value')
    const arg = expected === undefined ? `[${this.encode(next)}]` : `[${this.encode(next)},${this.encode(expected)}]`
    return [this.request('cas', encodeKey(key), arg)]
  }],
  /** expire(key, ttl) → whether the key exists (its TTL is now `ttl` ms). */
  expire: [2, function (key, ttl) {
    return [this.request('expire', encodeKey(key), String(checkTtl(ttl)))]
  }],
  /** ttl(key) → ms left; -1 without a TTL; -2 when missing (as Redis PTTL). */
  ttl: [1, function (key) {
    return [this.request('ttl', encodeKey(key), '0')]
  }],
  /** persist(key) → whether a TTL was removed. */
  persist: [1, function (key) {
    return [this.request('persist', encodeKey(key), '0')]
  }],
  /** keys([pattern]) → the keys matching a Redis KEYS glob (all without one). */
  keys: [0, function (pattern) {
    if (pattern !== undefined && typeof pattern !== 'string') throw invalid('keys() takes a glob pattern string')
    return [this.request('keys', 'null', pattern === undefined ? 'null' : JSON.stringify(pattern))]
  }],
  /** size() → how many keys there are. */
  size: [0, function () {
    return [this.request('size', 'null', '0')]
  }],
  /** clear() → 'OK': removes every key (of this namespace only, on a namespace). */
  clear: [0, function () {
    return [this.request('clear', 'null', '0', ok)]
  }],
  /** stats() → counters: totals with a `namespaces` breakdown, or one namespace's. */
  stats: [0, function () {
    return [this.request('stats', 'null', '0', (stats) => this.shapeStats(stats))]
  }],
}

class Controller extends EventEmitter {
  #client
  #style
  #namespace
  #warned = new Set()

  constructor(client, { role, callbackStyle, namespace = null }) {
    super()
    this.#client = client
    this.#style = callbackStyle
    this.#namespace = namespace
    /** 'master', 'worker' or 'manager' (the worker hosting the store in relay mode). */
    this.role = role
  }

  /** How this process reaches the store: 'local' (it hosts it), 'socket' or 'ipc'. */
  get transport() {
    return this.#client.transportName
  }

  /** The namespace name, or null for the default one. */
  get namespace() {
    return this.#namespace
  }

  /** Resolves once the store is reachable and sync calls can be made. */
  ready() {
    const promise = this.#client.whenReady()
    promise.catch(noop)
    return promise
  }

  /** A controller with the same API whose keys are apart from every other namespace's. */
  ns(name) {
    if (typeof name !== 'string' || name === '') throw invalid('ns() takes a non-empty string')
    return new Controller(this.#client, { role: this.role, callbackStyle: this.#style, namespace: name })
  }

  // Helpers for the operations table.

  /** One request for the client, with this controller's namespace added to its options. */
  request(op, key, arg, map, options) {
    const opts = {}
    if (this.#namespace !== null) opts.ns = this.#namespace
    for (const name in options) if (options[name] !== undefined && options[name] !== false) opts[name] = options[name]
    return [op, key, arg, map, Object.keys(opts).length > 0 ? JSON.stringify(opts) : undefined]
  }

  encode(value) {
    return encodeValue(value, this.#client.maxValueSize)
  }

  // An object's properties as one 'mset' plus a 'del' per undefined value.
  // Queued together, they travel, and are applied, as one batch.
  entries(object, options) {
    const { ttl } = checkOptions(options, ['ttl'])
    const pairs = []
    const requests = []
    for (const key of Object.keys(object)) {
      const value = object[key]
      if (value === undefined) requests.push(this.request('del', encodeKey(key), '0', ok))
      else pairs.push(`[${encodeKey(key)},${this.encode(value)}]`)
    }
    if (pairs.length > 0) requests.unshift(this.request('mset', 'null', `[${pairs.join(',')}]`, ok, { ttl }))
    return requests
  }

  shapeStats({ total, namespaces }) {
    if (this.#namespace !== null) return namespaces[this.#namespace] || { ...zeroStats(total) }
    return { ...total, namespaces }
  }

  static {
    for (const [name, [required, build]] of Object.entries(operations)) {
      this.prototype[name] = function (...args) {
        const need = typeof required === 'function' ? required(...args) : required
        const callback = args.length > need && typeof args[args.length - 1] === 'function' ? args.pop() : undefined
        return this.#call(callback, () => {
          const requests = build.apply(this, args)
          if (requests.length === 1) return this.#client.request(...requests[0])
          return Promise.all(requests.map((request) => this.#client.request(...request))).then(ok)
        })
      }
      this.prototype[`${name}Sync`] = function (...args) {
        const requests = build.apply(this, args)
        let result
        for (const request of requests) result = this.#client.requestSync(...request)
        return requests.length === 1 ? result : 'OK'
      }
    }
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
      const errorFirst = this.#style === 'error-first'
      promise.then(
        (value) => process.nextTick(errorFirst ? () => callback(null, value) : () => callback(value)),
        (err) => process.nextTick(errorFirst ? () => callback(err) : () => this.#report(err)),
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

function invalid(message) {
  return new SharedMemoryError('ERR_INVALID_ARGUMENT', `sharedmemory: ${message}`)
}

function checkTtl(ttl) {
  if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
    throw invalid(`a ttl is a positive number of milliseconds, got ${String(ttl)}`)
  }
  return ttl
}

/** Validates an options object, keeping only the names the operation knows. */
function checkOptions(options, known) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') throw invalid('options must be an object')
  const checked = {}
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw invalid(`unknown option ${name} (this call takes ${known.join(', ')})`)
  }
  if (options.ttl !== undefined) checked.ttl = checkTtl(options.ttl)
  if (options.nx !== undefined) checked.nx = Boolean(options.nx)
  if (options.xx !== undefined) checked.xx = Boolean(options.xx)
  return checked
}

function amount(by, sign = 1) {
  if (by === undefined || by === null || typeof by === 'object') return String(sign)
  if (typeof by !== 'number' || !Number.isFinite(by)) throw invalid(`an amount must be a finite number, got ${String(by)}`)
  return String(sign * by)
}

function zeroStats(like) {
  return Object.fromEntries(Object.keys(like).map((name) => [name, 0]))
}

module.exports = { Controller }
