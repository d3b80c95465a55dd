'use strict'

// An express-session store backed by sharedmemory: every process of a cluster
// app sees the same sessions, which live in the master's Rust store.
//
//   const session = require('express-session')
//   const SharedMemoryStore = require('sharedmemory/session')
//   app.use(session({ store: new SharedMemoryStore(), secret, resave: false, saveUninitialized: false }))
//
// express-session is not a dependency of this package: the app has it, and
// this module takes it from there when it is first required. Sessions are
// kept in one namespace of the store (`sm.ns('sessions')` by default), each
// under its session id, with a TTL that follows the session cookie, so an
// abandoned session leaves the store by itself when its cookie expires.

const DEFAULT_NAMESPACE = 'sessions'
const DEFAULT_TTL = 24 * 60 * 60 * 1000 // one day, for cookies that have no expiry of their own

const { shown } = require('./lib/errors')

const { Store } = loadExpressSession()

class SharedMemoryStore extends Store {
  #controller // the controller given in the options, or null for init()'s
  #namespace
  #sessions = null // the namespace's controller, once first needed
  #ttl
  #disableTouch

  /**
   * @param {object} [options]
   * @param {object} [options.controller] what init() returned (default: require('sharedmemory').init(),
   *   taken when the store is first used, so the app may call init() with its own config after this)
   * @param {string} [options.namespace='sessions'] the namespace the sessions are kept in
   * @param {number} [options.ttl=86400000] ms a session lives when its cookie has no expiry
   * @param {boolean} [options.disableTouch=false] do not extend a session's TTL on reads
   */
  constructor(options = {}) {
    super()
    if (options === null || typeof options !== 'object') throw optionError('options must be an object')
    const { controller, namespace = DEFAULT_NAMESPACE, ttl = DEFAULT_TTL, disableTouch = false } = options
    if (controller !== undefined && controller !== null && (typeof controller !== 'object' || typeof controller.ns !== 'function')) {
      throw optionError('the controller option takes what require(\'sharedmemory\').init() returned')
    }
    if (typeof namespace !== 'string' || namespace === '') throw optionError('the namespace option is a non-empty string')
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
      throw optionError(`the ttl option is a positive number of milliseconds, got ${shown(ttl)}`)
    }
    this.#controller = controller ?? null
    this.#namespace = namespace
    this.#ttl = ttl
    this.#disableTouch = Boolean(disableTouch)
    // Resolve the namespace at once when a controller was given, so a wrong
    // one fails here rather than on the first request.
    if (this.#controller !== null) this.#sessions = this.#controller.ns(namespace)
  }

  /** The namespace the sessions are kept in. */
  get namespace() {
    return this.#namespace
  }

  /** get(sid, cb): cb(null, session), or cb(null, undefined) when there is none. */
  get(sid, callback) {
    this.#run(callback, (sessions) => sessions.get(sid))
  }

  /** set(sid, session, cb): stores the session until its cookie expires. */
  set(sid, session, callback) {
    this.#run(callback, (sessions) => {
      const ttl = this.#ttlOf(session)
      // A cookie that has already expired: the session is over.
      if (ttl === null) return sessions.delete(sid).then(nothing)
      return sessions.set(sid, session, { ttl }).then(nothing)
    })
  }

  /** touch(sid, session, cb): the session lives on for its cookie's lifetime, counted from now. */
  touch(sid, session, callback) {
    if (this.#disableTouch) {
      if (typeof callback === 'function') process.nextTick(callback, null)
      return
    }
    this.#run(callback, (sessions) => {
      const ttl = this.#ttlOf(session)
      if (ttl === null) return sessions.delete(sid).then(nothing)
      // Answers false when the session is gone already: nothing to extend, not an error.
      return sessions.expire(sid, ttl).then(nothing)
    })
  }

  /** destroy(sid, cb): removes the session (whether or not it was there). */
  destroy(sid, callback) {
    this.#run(callback, (sessions) => sessions.delete(sid).then(nothing))
  }

  /** all(cb): cb(null, sessions), an array of every stored session. */
  all(callback) {
    this.#run(callback, (sessions) =>
      sessions.keys().then((ids) => {
        if (ids.length === 0) return []
        // A session may expire or be destroyed between keys() and mget(): skip it.
        return sessions.mget(ids).then((found) => found.filter((session) => session !== undefined && session !== null))
      }),
    )
  }

  /** length(cb): cb(null, how many sessions are stored). */
  length(callback) {
    this.#run(callback, (sessions) => sessions.size())
  }

  /** clear(cb): removes every session (and nothing else: only this store's namespace is cleared). */
  clear(callback) {
    this.#run(callback, (sessions) => sessions.clear().then(nothing))
  }

  /**
   * Runs one operation on the sessions' namespace and hands its outcome to
   * an error-first callback, called outside the promise chain: a callback
   * that throws is an uncaught exception, as with any Node.js callback, and
   * never an unhandled rejection. Without a callback, the outcome is dropped.
   */
  #run(callback, operation) {
    let promise
    try {
      promise = Promise.resolve(operation(this.#namespaceController()))
    } catch (err) {
      promise = Promise.reject(err)
    }
    promise.then(
      (value) => {
        if (typeof callback === 'function') process.nextTick(callback, null, value)
      },
      (err) => {
        if (typeof callback === 'function') process.nextTick(callback, err)
      },
    )
  }

  #namespaceController() {
    if (this.#sessions === null) {
      // Taken on first use, not in the constructor: the app may create the
      // store before calling init() with its own options.
      this.#sessions = require('./index.js').init().ns(this.#namespace)
    }
    return this.#sessions
  }

  /**
   * How long a session lives, in ms, from its cookie: until `cookie.expires`
   * if it has one, else `cookie.maxAge`, else the store's ttl option. Null
   * when the cookie has expired already.
   */
  #ttlOf(session) {
    const cookie = session !== null && typeof session === 'object' ? session.cookie : undefined
    let ttl = this.#ttl
    if (cookie !== null && typeof cookie === 'object') {
      const expires = cookie.expires
      if (expires !== null && expires !== undefined && expires !== '') {
        const at = expires instanceof Date ? expires.getTime() : new Date(expires).getTime()
        if (Number.isFinite(at)) ttl = at - Date.now()
      } else if (typeof cookie.maxAge === 'number' && !Number.isNaN(cookie.maxAge)) {
        ttl = cookie.maxAge
      }
    }
    if (!(ttl > 0)) return null
    // The store takes whole milliseconds; round up so a session never leaves before its cookie.
    return Number.isFinite(ttl) ? Math.ceil(ttl) : this.#ttl
  }
}

function nothing() {
  return undefined
}

function optionError(message) {
  const err = new TypeError(`sharedmemory/session: ${message}`)
  err.code = 'ERR_INVALID_ARGUMENT'
  return err
}

/**
 * express-session, as the app has it: from next to this package first (the
 * usual node_modules layout), else from the app's own directory.
 */
function loadExpressSession() {
  const places = [undefined]
  if (require.main && require.main.path) places.push(require.main.path)
  places.push(process.cwd())
  for (const place of places) {
    let resolved
    try {
      resolved = place === undefined ? require.resolve('express-session') : require.resolve('express-session', { paths: [place] })
    } catch (err) {
      if (err && err.code === 'MODULE_NOT_FOUND') continue
      throw err
    }
    const expressSession = require(resolved)
    if (typeof expressSession.Store !== 'function') {
      throw new Error(`sharedmemory/session: ${resolved} does not export a Store class; is it express-session?`)
    }
    return expressSession
  }
  const err = new Error(
    "sharedmemory/session needs express-session, which is not installed: run `npm install express-session` in your app",
  )
  err.code = 'MODULE_NOT_FOUND'
  throw err
}

module.exports = SharedMemoryStore
module.exports.SharedMemoryStore = SharedMemoryStore
