'use strict'

// The public API: what init() returns, in every process, and what ns()
// returns. Every operation is one entry of the `operations` table below:
// it turns the caller's arguments into Request objects (lib/ops.js: op,
// namespace, key and argument as JSON text, options, and how to shape the
// answer) for this controller's backend (lib/backend.js). Each entry
// becomes two methods: `name(...args[, callback])`, answering a Promise
// (backend.request), and `nameSync(...args)`, answering the value itself
// (backend.requestSync, one trip for all of the call's requests).
//
// One get(), end to end: get('k') → operations.get builds
// Request('get', ns, '"k"', '0', undefined, decoder) → #call wires the
// callback → backend.request(request) → (batching backend) queued, sent
// with the rest of this turn's requests, its reply matched by id →
// request.map(value) resolves the promise → #call calls the callback.
//
// One getSync('k') in a worker, on its hot path: the string key goes to
// backend.readNow (lib/backend.js) with no Request built → (batching
// backend) the shared segment's reader (lib/shared-reads.js) → a raw napi
// function (src/binding/reader.rs) quotes the key, reads the segment and
// answers the value; anything it cannot answer takes the way above.

const { EventEmitter } = require('node:events')

const { NOT_READ } = require('./backend')
const { encodeKey, encodeValue, decodeValue } = require('./codec')
const { SharedMemoryError, shown } = require('./errors')
const { checkGlob } = require('./glob')
const { Lock } = require('./lock')
const { Request } = require('./ops')
const { getOrSet } = require('./single-flight')

/** Defaults of lock(): how long a lock is held at most, and how long to wait for it (ms). */
const LOCK_LEASE = 30000
const LOCK_WAIT = 10000

/** Generated methods that one written out in the class takes over from (see the static block). */
const generated = {}

const ok = () => 'OK'
const noop = () => {}
const identity = (value) => value

/**
 * name → [how many leading arguments are required, build(args) → a Request,
 * or an array of them (answered 'OK' once all are done)].
 * A function after the required arguments is the callback (so a function
 * given as a value is refused as a value, never taken for a callback).
 * `this` is the controller, for encoding values and adding its namespace.
 */
const operations = {
  /** get(key) → the value, or undefined. */
  get: [1, function (key) {
    return this.request('get', encodeKey(key), '0', this.decoder())
  }],
  /**
   * set(key, value[, {ttl, nx, xx}]) → 'OK', or with nx/xx whether it stored.
   * set(object) stores every own property at once. undefined removes the key.
   */
  set: [(key) => (isEntries(key) ? 1 : 2), function (key, value, options) {
    if (isEntries(key)) return this.entries(key, value === undefined ? undefined : options)
    if (value === undefined) return this.request('del', encodeKey(key), '0', ok)
    const { ttl = this.defaultTtl, nx, xx } = checkOptions(options, ['ttl', 'nx', 'xx'])
    if (nx && xx) throw invalid('set() takes nx or xx, not both')
    const answer = nx || xx ? identity : ok
    return this.request('set', encodeKey(key), this.encode(value), answer, { ttl, nx, xx })
  }],
  /** mset(object[, {ttl}]) → 'OK': every own property, all or none. */
  mset: [1, function (object, options) {
    if (!isEntries(object)) throw invalid('mset() takes an object of key/value pairs')
    return this.entries(object, options)
  }],
  /** mget(keys) → their values, undefined where missing. */
  mget: [1, function (keys) {
    if (!Array.isArray(keys)) throw invalid('mget() takes an array of keys')
    const rows = (rows) => rows.map((row) => (row[0] === 1 ? this.decode(row[1]) : undefined))
    return this.request('mget', null, `[${keys.map(encodeKey).join(',')}]`, rows)
  }],
  /** remove(key) → 'OK' (the 0.0.7 name). */
  remove: [1, function (key) {
    return this.request('del', encodeKey(key), '0', ok)
  }],
  /** delete(key) → whether the key existed. */
  delete: [1, function (key) {
    return this.request('del', encodeKey(key), '0')
  }],
  /** has(key) → whether the key exists (does not count as a use). */
  has: [1, function (key) {
    return this.request('has', encodeKey(key), '0')
  }],
  /** plusOne(key) → the new number (the 0.0.7 name of incr(key)). */
  plusOne: [1, function (key) {
    return this.request('incr', encodeKey(key), '1')
  }],
  /** incr(key[, by = 1][, {ttl}]) → the new number. A ttl applies only when this creates the key. */
  incr: [1, function (key, by, options) {
    if (isOptions(by) && options === undefined) [by, options] = [undefined, by] // incr(key, {ttl})
    return this.request('incr', encodeKey(key), amount(by), identity, this.ttlOptions(options))
  }],
  /** decr(key[, by = 1][, {ttl}]) → the new number. */
  decr: [1, function (key, by, options) {
    if (isOptions(by) && options === undefined) [by, options] = [undefined, by] // decr(key, {ttl})
    return this.request('incr', encodeKey(key), amount(by, -1), identity, this.ttlOptions(options))
  }],
  /** getSet(key, value) → the old value (or undefined); the new one has no TTL. */
  getSet: [2, function (key, value) {
    if (value === undefined) throw invalid('getSet() needs a value; delete() removes a key')
    return this.request('getset', encodeKey(key), this.encode(value), this.decoder())
  }],
  /**
   * compareAndSet(key, expected, next) → whether it stored `next`: only if the
   * stored value's JSON is exactly JSON.stringify(expected), or, with
   * expected undefined, only if the key is missing.
   */
  compareAndSet: [3, function (key, expected, next) {
    if (next === undefined) throw invalid('compareAndSet() needs a next value')
    const arg = expected === undefined ? `[${this.encode(next)}]` : `[${this.encode(next)},${this.encode(expected)}]`
    return this.request('cas', encodeKey(key), arg)
  }],
  /** expire(key, ttl) → whether the key exists (its TTL is now `ttl` ms). */
  expire: [2, function (key, ttl) {
    return this.request('expire', encodeKey(key), String(checkTtl(ttl)))
  }],
  /** ttl(key) → ms left; -1 without a TTL; -2 when missing (as Redis PTTL). */
  ttl: [1, function (key) {
    return this.request('ttl', encodeKey(key), '0')
  }],
  /** persist(key) → whether a TTL was removed. */
  persist: [1, function (key) {
    return this.request('persist', encodeKey(key), '0')
  }],
  /** keys([pattern]) → the keys matching a Redis KEYS glob (all without one). */
  keys: [0, function (pattern) {
    if (pattern !== undefined && typeof pattern !== 'string') throw invalid('keys() takes a glob pattern string')
    return this.request('keys', null, pattern === undefined ? 'null' : JSON.stringify(checkGlob(pattern, 'keys')))
  }],
  /** size() → how many keys there are. */
  size: [0, function () {
    return this.request('size', null, '0')
  }],
  /** clear() → 'OK': removes every key of this namespace (the default one, on the root controller). */
  clear: [0, function () {
    return this.request('clear', null, '0', ok)
  }],
  /** stats() → counters: totals with a `namespaces` breakdown, or one namespace's. */
  stats: [0, function () {
    return this.request('stats', null, '0', (stats) => this.shapeStats(stats))
  }],
}

class Controller extends EventEmitter {
  #backend
  #readsNow // whether the backend has readNow (lib/backend.js)
  #role
  #style
  #namespace
  #defaultTtl
  #bounded // the bound request of ns(name, {max, maxBytes}), or null
  #warned = new Set()

  /** Made by createController (lib/create.js), and by ns(). */
  constructor(backend, { role, callbackStyle, namespace = null, defaultTtl, bounded = null }) {
    super()
    this.#backend = backend
    this.#readsNow = typeof backend.readNow === 'function'
    this.#style = callbackStyle
    this.#namespace = namespace
    this.#defaultTtl = defaultTtl
    this.#bounded = bounded
    this.#role = role
    if (namespace === null) {
      backend.onWatchOverflow = (lost) =>
        this.#report(
          new SharedMemoryError(
            'ERR_WATCH_OVERFLOW',
            `sharedmemory: this process fell behind on watch events and ${lost} batches of them were dropped; ` +
              'keep watch listeners quick, or watch fewer keys',
          ),
        )
    }
  }

  /**
   * 'master' (this process hosts the store), 'worker' (it reaches it from
   * elsewhere) or 'manager' (the worker hosting the store in relay mode).
   * A backend whose part can change (an elected one, after a failover)
   * says it itself.
   */
  get role() {
    return this.#backend.role ?? this.#role
  }

  /** How this process reaches the store: 'local' (it hosts it), 'socket' or 'ipc'. */
  get transport() {
    return this.#backend.transport
  }

  /**
   * What the backend guarantees ({sync, atomicBatch, lockReleaseOnExit,
   * watchValues, lruByCount}: see lib/backend.js), e.g. false
   * lockReleaseOnExit on Redis, where a dead holder's lock passes on when
   * its lease ends.
   */
  get capabilities() {
    return this.#backend.capabilities
  }

  /**
   * Ends this process's part (on any controller of it: they share one
   * link): pending and later calls fail with ERR_CLOSED, its connections
   * close, and a process hosting the store stops serving it (the workers of
   * a cluster master get ERR_HOST_EXITED; the others of a store elected by
   * name elect another host). Resolves once done.
   */
  close() {
    return this.#backend.close()
  }

  /** Whether close() was called (on this controller or another of this process). */
  get closed() {
    return this.#backend.closed === true
  }

  /** The namespace name, or null for the default one. */
  get namespace() {
    return this.#namespace
  }

  /**
   * Resolves once the store is reachable and sync calls can be made (and,
   * on a namespace made with bounds, once the store has them).
   */
  ready() {
    const promise = this.#bounded ? Promise.all([this.#backend.ready(), this.#bounded]).then(noop) : this.#backend.ready()
    promise.catch(noop)
    return promise
  }

  /** The TTL (ms) this namespace gives writes that name none (ns(name, {ttl})), or undefined. */
  get defaultTtl() {
    return this.#defaultTtl
  }

  /**
   * A controller with the same API whose keys are apart from every other
   * namespace's. `max` and `maxBytes` bound this namespace alone (its own
   * least recently used entries are evicted, never another namespace's):
   * they are sent to the store at once, and hold for every process from
   * then on, until another ns() call of this name sets others. `ttl` is the
   * TTL of this controller's writes that give none.
   */
  ns(name, options) {
    if (typeof name !== 'string' || name === '') throw invalid('ns() takes a non-empty string')
    const { max, maxBytes, ttl } = namespaceOptions(options)
    let bounded = null
    if (max !== undefined || maxBytes !== undefined) {
      const arg = JSON.stringify({ max: max ?? null, maxBytes: maxBytes ?? null })
      bounded = this.#backend.request(new Request('bound', name, null, arg, undefined, noop))
      bounded.catch((err) => this.#report(err))
    }
    return new Controller(this.#backend, { role: this.role, callbackStyle: this.#style, namespace: name, defaultTtl: ttl, bounded })
  }

  /**
   * lock(key[, {lease, wait}][, callback]) → a Lock once this process holds
   * it. Waiters are served in the order they asked; one that waited `wait`
   * ms (default 10 s; 0: do not wait; Infinity: as long as it takes) fails
   * with ERR_LOCK_TIMEOUT. The lock goes to the next waiter on release(),
   * when its `lease` (default 30 s) runs out, or at once when this process
   * exits, however it exits.
   */
  lock(key, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options]
    return this.#call(callback, () => {
      const { lease, wait } = lockOptions(options)
      const encoded = encodeKey(key)
      // A backend that can tell when the host went away (lib/backends/batching.js)
      // keeps the locks held there, to tell them they are lost.
      const backend = this.#backend
      const held = (token) => {
        const lock = new Lock(key, token, {
          release: () => {
            if (backend.forgetLock) backend.forgetLock(lock)
            return backend.request(this.request('unlock', encoded, String(token)))
          },
          extend: (ms) => {
            try {
              const extended = backend.request(this.request('extend', encoded, `[${token},${checkTtl(ms, 'a lock lease')}]`))
              if (backend.holdLock) extended.then((kept) => (kept ? backend.holdLock(lock, ms) : backend.forgetLock(lock)), noop)
              return extended
            } catch (err) {
              return Promise.reject(err)
            }
          },
        })
        if (backend.holdLock) backend.holdLock(lock, lease)
        return lock
      }
      const arg = JSON.stringify({ lease, wait: wait === Infinity ? null : wait })
      return this.#backend.request(this.request('lock', encoded, arg, held, undefined, wait))
    })
  }

  /**
   * Runs `fn(lock)` holding the lock on `key` (options as lock()), and
   * releases it when `fn`'s promise settles → what `fn` answered.
   */
  async withLock(key, fn, options) {
    if (typeof fn !== 'function') throw invalid('withLock() takes a function to run while holding the lock')
    const lock = await this.lock(key, options)
    try {
      return await fn(lock)
    } finally {
      await lock.release().catch(noop)
    }
  }

  /**
   * getOrSet(key, fn[, {ttl, lease, wait}]) → the value of `key`; when it is
   * missing, `fn()` computes it once across every process (the others wait
   * their turn and get what it stored, or the error it threw), and it is
   * stored with `ttl`. lib/single-flight.js.
   */
  getOrSet(key, fn, options) {
    return getOrSet(this, key, fn, options)
  }

  /**
   * watch(pattern, listener) → a function that stops the watch. `listener`
   * gets {key, kind, value} for every change of a key of this namespace
   * matching `pattern` (a key, or a Redis glob such as 'user:*'), from any
   * process, in the order the store applied them; kind is 'set' (with the
   * new value), 'delete', 'expire' or 'evict'. The function's `ready`
   * promise resolves once the store has the watch (changes from then on
   * are seen). Stopping answers a promise too.
   */
  watch(pattern, listener) {
    if (typeof pattern !== 'string') throw invalid('watch() takes a key or glob pattern string')
    if (typeof listener !== 'function') throw invalid('watch() takes a listener function')
    checkGlob(pattern, 'watch')
    const decode = (event) => listener(event.kind === 'set' ? { ...event, value: this.decode(event.value) } : event)
    const { id, started } = this.#backend.watch(pattern, this.#namespace, decode)
    const stop = () => {
      const stopped = this.#backend.unwatch(id, this.#namespace)
      stopped.catch(noop)
      return stopped
    }
    stop.ready = started.then(() => undefined)
    stop.ready.catch(noop)
    return stop
  }

  // Helpers for the operations table.

  /** One Request (lib/ops.js) in this controller's namespace. */
  request(op, key, arg, map, options, wait) {
    return new Request(op, this.#namespace, key, arg, options, map, wait)
  }

  /** A value as the JSON text the store keeps, per this process's `serialization` option. */
  encode(value) {
    return encodeValue(value, this.#backend.maxValueSize, this.#backend.serialization)
  }

  /**
   * The inverse of `encode`, for every stored value an answer carries (get,
   * mget, getSet, and anything else that hands stored values back, such as
   * change events): the identity with serialization 'json'; with 'advanced',
   * rebuilds what node:v8 serialized.
   */
  decode(value) {
    return decodeValue(value, this.#backend.serialization)
  }

  /** `decode` as a reply map, or none when values need no decoding ('json'). */
  decoder() {
    return this.#backend.serialization === 'advanced' ? (value) => this.decode(value) : undefined
  }

  // An object's properties as one 'mset' plus a 'del' per undefined value.
  // Queued together (or sent as one sync trip), they travel, and are
  // applied, as one batch.
  entries(object, options) {
    const { ttl } = this.ttlOptions(options)
    const pairs = []
    const requests = []
    for (const key of Object.keys(object)) {
      const value = object[key]
      if (value === undefined) requests.push(this.request('del', encodeKey(key), '0', ok))
      else pairs.push(`[${encodeKey(key)},${this.encode(value)}]`)
    }
    if (pairs.length > 0) requests.unshift(this.request('mset', null, `[${pairs.join(',')}]`, ok, { ttl }))
    return requests
  }

  /** The {ttl} of a call that takes only a ttl, this namespace's default filled in. */
  ttlOptions(options) {
    const { ttl = this.#defaultTtl } = checkOptions(options, ['ttl'])
    return { ttl }
  }

  shapeStats({ total, namespaces, segmentBytes = 0 }) {
    if (this.#namespace !== null) return namespaces[this.#namespace] || { ...zeroStats(total) }
    return { ...total, segmentBytes, namespaces }
  }

  /** getSync(key) → the value, or undefined: read at once where the backend can (backend.readNow), else as every sync call. */
  getSync(key) {
    if (typeof key === 'string' && this.#readsNow && this.#backend.serialization !== 'advanced') {
      const value = this.#backend.readNow(this.#namespace, key, true)
      if (value !== NOT_READ) return value
    }
    return this.#backend.requestSync([operations.get[1].call(this, key)])[0]
  }

  /** get(key[, callback]) → the value, or undefined: as getSync, a string key the backend can read at once is answered without a Request. */
  get(key, ...rest) {
    if (typeof key !== 'string' || !this.#readsNow || this.#backend.serialization === 'advanced') return generated.get.call(this, key, ...rest)
    const callback = rest.length > 0 && typeof rest[rest.length - 1] === 'function' ? rest[rest.length - 1] : undefined
    return this.#call(callback, () => {
      const value = this.#backend.readNow(this.#namespace, key, false)
      return value === NOT_READ ? this.#backend.request(operations.get[1].call(this, key)) : Promise.resolve(value)
    })
  }

  static {
    for (const [name, [required, build]] of Object.entries(operations)) {
      // A method written out above (get, getSync) keeps the generated form for the rest of its cases.
      const form = Object.hasOwn(this.prototype, name) ? generated : this.prototype
      form[name] = function (...args) {
        const need = typeof required === 'function' ? required(...args) : required
        const callback = args.length > need && typeof args[args.length - 1] === 'function' ? args.pop() : undefined
        return this.#call(callback, () => {
          const built = build.apply(this, args)
          if (!Array.isArray(built)) return this.#backend.request(built)
          if (built.length === 1) return this.#backend.request(built[0])
          const all = Promise.all(built.map((request) => this.#backend.request(request))).then(ok)
          all.catch(noop)
          return all
        })
      }
      if (Object.hasOwn(this.prototype, `${name}Sync`)) continue // written out above
      this.prototype[`${name}Sync`] = function (...args) {
        const built = build.apply(this, args)
        if (!Array.isArray(built)) return this.#backend.requestSync([built])[0]
        if (built.length === 0) return 'OK'
        const answers = this.#backend.requestSync(built)
        return built.length === 1 ? answers[0] : 'OK'
      }
    }
  }

  /**
   * Runs `start`, turning a throw into a rejection, and wires up the
   * callback. A caller may ignore the promise: that must never be an
   * unhandled rejection, so `start` answers one that is already handled
   * (a backend's are, see lib/backend.js), and so is a throw's.
   */
  #call(callback, start) {
    let promise
    try {
      promise = start()
    } catch (err) {
      promise = Promise.reject(err)
      promise.catch(noop)
    }
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

/** A positive, finite number of milliseconds; `what` names it in the message (a ttl, lease, ...). */
function checkTtl(ttl, what = 'a ttl') {
  if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
    throw invalid(`${what} is a positive number of milliseconds, got ${shown(ttl)}`)
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

/** ns()'s options: {max, maxBytes} (positive integers) and {ttl} (ms), each optional. */
function namespaceOptions(options) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') throw invalid('ns() options must be an object like {max: 1000, maxBytes: 1e6, ttl: 60000}')
  for (const name of Object.keys(options)) {
    if (name !== 'max' && name !== 'maxBytes' && name !== 'ttl') throw invalid(`unknown option ${name} (ns() takes max, maxBytes, ttl)`)
  }
  const count = (name) => {
    const value = options[name]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw invalid(`ns() option ${name} is a positive integer, got ${shown(value)}`)
    }
    return value
  }
  return { max: count('max'), maxBytes: count('maxBytes'), ttl: options.ttl === undefined ? undefined : checkTtl(options.ttl) }
}

function lockOptions(options) {
  if (options === undefined || options === null) return { lease: LOCK_LEASE, wait: LOCK_WAIT }
  if (typeof options !== 'object') throw invalid('lock options must be an object')
  for (const name of Object.keys(options)) {
    if (name !== 'lease' && name !== 'wait') throw invalid(`unknown option ${name} (lock() takes lease, wait)`)
  }
  const lease = options.lease === undefined ? LOCK_LEASE : checkTtl(options.lease, 'a lock lease')
  const wait = options.wait === undefined ? LOCK_WAIT : options.wait
  if (typeof wait !== 'number' || !(wait >= 0)) {
    throw invalid(`wait is a number of milliseconds (0 to not wait, Infinity to wait as long as it takes), got ${shown(wait)}`)
  }
  return { lease, wait }
}

/** An options object given where an amount may stand (incr(key, {ttl})). */
function isOptions(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function amount(by, sign = 1) {
  if (by === undefined || by === null) return String(sign)
  if (typeof by !== 'number' || !Number.isFinite(by)) throw invalid(`an amount must be a finite number, got ${shown(by)}`)
  return String(sign * by)
}

function zeroStats(like) {
  return Object.fromEntries(Object.keys(like).map((name) => [name, 0]))
}

module.exports = { Controller }
