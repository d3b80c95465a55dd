'use strict'

// A Keyv storage adapter backed by sharedmemory, so Keyv, and what is built
// on it (cache-manager 6 and 7, cacheable, the NestJS cache module), share
// one cache among every process of the app.
//
//   const { Keyv } = require('keyv')
//   const { KeyvSharedMemory } = require('sharedmemory/keyv')
//   const keyv = new Keyv({ store: new KeyvSharedMemory(), namespace: 'users' })
//
//   const { createCache } = require('cache-manager')
//   const cache = createCache({ stores: [new Keyv({ store: new KeyvSharedMemory() })] })
//   await cache.wrap('report', () => buildReport(), 60_000)
//
// Keyv hands the adapter keys already prefixed with its namespace
// (`users:42`) and values already serialized; they are kept as they come,
// in one namespace of the store (`ns('keyv')` by default), each with the TTL
// Keyv gives, so the store expires them by itself. clear() removes the keys
// of this adapter's Keyv namespace only. Keyv is not a dependency: this
// module only fulfils its adapter interface.

const { EventEmitter } = require('node:events')

const { adapterOptions, escapeGlob } = require('./lib/adapters')

const DEFAULT_NAMESPACE = 'keyv'

class KeyvSharedMemory extends EventEmitter {
  /** Set by Keyv: the Keyv namespace whose keys this adapter holds (they arrive prefixed `namespace:`). */
  namespace = undefined
  /** Keyv reads `opts` (its dialect decides which of Keyv's features apply). */
  opts
  #controller
  #storeNamespace
  #entries = null // the store namespace's controller, once first needed

  /**
   * @param {object} [options]
   * @param {object} [options.controller] what init() returned (default: require('sharedmemory').init(),
   *   taken when the adapter is first used)
   * @param {string} [options.namespace='keyv'] the sharedmemory namespace the entries are kept in
   *   (apart from Keyv's own `namespace`, which prefixes the keys)
   */
  constructor(options = {}) {
    super()
    const { controller, namespace } = adapterOptions('keyv', options, DEFAULT_NAMESPACE)
    this.#controller = controller
    this.#storeNamespace = namespace
    this.opts = { dialect: 'sharedmemory', namespace }
    if (controller !== null) this.#entries = controller.ns(namespace)
  }

  /** The value stored under `key` (as Keyv serialized it), or undefined. */
  get(key) {
    return this.#run((entries) => entries.get(key))
  }

  /** The values of `keys`, in order, undefined where missing: one request. */
  getMany(keys) {
    return this.#run((entries) => entries.mget(keys))
  }

  /** Stores `value` under `key`, for `ttl` ms when given (Keyv passes undefined for no TTL). */
  set(key, value, ttl) {
    return this.#run((entries) => entries.set(key, value, ttlOption(ttl)).then(() => true))
  }

  /** Stores every entry ({key, value, ttl}); answers a true per entry. */
  setMany(list) {
    return this.#run(async (entries) => {
      // All leave in one batch; entries with the same TTL could share an
      // mset, but each may have its own.
      await Promise.all(list.map(({ key, value, ttl }) => entries.set(key, value, ttlOption(ttl))))
      return list.map(() => true)
    })
  }

  /** Removes `key`; answers whether it was there. */
  delete(key) {
    return this.#run((entries) => entries.delete(key))
  }

  /** Removes every key of `keys`; answers whether every one was there. */
  deleteMany(keys) {
    return this.#run(async (entries) => (await Promise.all(keys.map((key) => entries.delete(key)))).every(Boolean))
  }

  /** Whether `key` is stored. */
  has(key) {
    return this.#run((entries) => entries.has(key))
  }

  /** Whether each of `keys` is stored. */
  hasMany(keys) {
    return this.#run((entries) => Promise.all(keys.map((key) => entries.has(key))))
  }

  /**
   * Removes the keys of this adapter's Keyv namespace (those prefixed
   * `namespace:`); without a Keyv namespace, every key of the store namespace.
   */
  clear() {
    return this.#run(async (entries) => {
      if (this.namespace === undefined || this.namespace === null || this.namespace === '') {
        await entries.clear()
        return
      }
      const keys = await entries.keys(`${escapeGlob(String(this.namespace))}:*`)
      await Promise.all(keys.map((key) => entries.delete(key)))
    })
  }

  /** Nothing to do: the link to the store is the app's (close it with the controller's close()). */
  async disconnect() {}

  /** A call on the store namespace; a failure is emitted as 'error' (Keyv listens) and rejects. */
  async #run(call) {
    try {
      if (this.#entries === null) this.#entries = require('./index.js').init().ns(this.#storeNamespace)
      return await call(this.#entries)
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err)
      throw err
    }
  }
}

/** Keyv's ttl (ms, or undefined / 0 for none) as the options of set(). */
function ttlOption(ttl) {
  return typeof ttl === 'number' && ttl > 0 && Number.isFinite(ttl) ? { ttl } : undefined
}

module.exports = KeyvSharedMemory
module.exports.KeyvSharedMemory = KeyvSharedMemory
module.exports.default = KeyvSharedMemory
