'use strict'

// A store for express-rate-limit backed by sharedmemory: every process of
// the app counts the same hits, so a limit of 100 a minute is 100 a minute
// for the whole app, not 100 per worker.
//
//   const { rateLimit } = require('express-rate-limit')
//   const { RateLimitStore } = require('sharedmemory/rate-limit')
//   app.use(rateLimit({ windowMs: 60_000, limit: 100, store: new RateLimitStore() }))
//
// A client's count is one key (prefix + the limiter's key) of one namespace
// of the store (`ns('rate-limit')` by default), created by an atomic
// increment with the window as its TTL, so later hits do not stretch the
// window and the key leaves the store when the window ends. express-rate-limit
// is not a dependency: this module only fulfils its Store interface.

const { adapterOptions, escapeGlob, optionError } = require('./lib/adapters')

const DEFAULT_NAMESPACE = 'rate-limit'
const DEFAULT_PREFIX = 'rl:'
const DEFAULT_WINDOW_MS = 60_000 // express-rate-limit's own default, until init() says otherwise

class RateLimitStore {
  /** Counts are shared by every process: express-rate-limit must not assume they are this process's. */
  localKeys = false
  /** Prepended to every key, so several limiters can share one namespace. */
  prefix
  #controller
  #namespace
  #counts = null // the namespace's controller, once first needed
  #windowMs = DEFAULT_WINDOW_MS

  /**
   * @param {object} [options]
   * @param {object} [options.controller] what init() returned (default: require('sharedmemory').init(),
   *   taken when the store is first used)
   * @param {string} [options.namespace='rate-limit'] the namespace the counts are kept in
   * @param {string} [options.prefix='rl:'] prepended to every key; give each limiter its own
   */
  constructor(options = {}) {
    const { controller, namespace } = adapterOptions('rate-limit', options, DEFAULT_NAMESPACE)
    const prefix = options.prefix === undefined ? DEFAULT_PREFIX : options.prefix
    if (typeof prefix !== 'string') throw optionError('rate-limit', `the prefix option is a string, got ${typeof prefix}`)
    this.#controller = controller
    this.#namespace = namespace
    this.prefix = prefix
    if (controller !== null) this.#counts = controller.ns(namespace)
  }

  /** Called by express-rate-limit with its options: the window's length is the counts' TTL. */
  init(options) {
    const windowMs = options && options.windowMs
    if (typeof windowMs === 'number' && windowMs > 0 && Number.isFinite(windowMs)) this.#windowMs = windowMs
  }

  /** The window's length in ms, as init() set it. */
  get windowMs() {
    return this.#windowMs
  }

  /** {totalHits, resetTime} of `key`, or undefined when it has no hits in this window. */
  async get(key) {
    const counts = this.#ns()
    const k = this.prefix + key
    // Both requests leave in one batch and are applied together.
    const [hits, ttl] = await Promise.all([counts.get(k), counts.ttl(k)])
    if (typeof hits !== 'number') return undefined
    return { totalHits: hits, resetTime: resetTime(ttl) }
  }

  /** Counts one hit; answers {totalHits, resetTime}. The first hit of a window starts it. */
  async increment(key) {
    const counts = this.#ns()
    const k = this.prefix + key
    const [totalHits, ttl] = await Promise.all([counts.incr(k, { ttl: this.#windowMs }), counts.ttl(k)])
    return { totalHits, resetTime: resetTime(ttl) }
  }

  /**
   * Takes one hit back (express-rate-limit's skipSuccessfulRequests and
   * skipFailedRequests). A window that ended meanwhile is not restarted below zero.
   */
  async decrement(key) {
    const counts = this.#ns()
    const k = this.prefix + key
    const left = await counts.decr(k, { ttl: this.#windowMs })
    // The window had ended: the decrement created the key. Undo it with an
    // increment (atomic, as the decrement was), never a delete, which could
    // drop a hit another process counted in between.
    if (left < 0) await counts.incr(k)
  }

  /** Forgets `key`'s hits. */
  async resetKey(key) {
    await this.#ns().delete(this.prefix + key)
  }

  /** Forgets every key of this store (its prefix in its namespace). */
  async resetAll() {
    const counts = this.#ns()
    if (this.prefix === '') {
      await counts.clear()
      return
    }
    const keys = await counts.keys(`${escapeGlob(this.prefix)}*`)
    await Promise.all(keys.map((k) => counts.delete(k)))
  }

  #ns() {
    if (this.#counts === null) this.#counts = require('./index.js').init().ns(this.#namespace)
    return this.#counts
  }
}

/** When a window ends, from its key's remaining ms (undefined when the key has no TTL). */
function resetTime(ttl) {
  return typeof ttl === 'number' && ttl >= 0 ? new Date(Date.now() + ttl) : undefined
}

module.exports = RateLimitStore
module.exports.RateLimitStore = RateLimitStore
module.exports.default = RateLimitStore
