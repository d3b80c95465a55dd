'use strict'

// The Redis backend: init({redis}) in any process, on any machine, gives the
// same controller over a Redis (or Valkey) server. It is the batching
// backend (lib/backends/batching.js) over one more transport: the requests of
// a turn go as one batch to a Rust thread (src/redis/client.rs) that maps
// them to Redis commands (src/redis/plan.rs), sends them as one pipeline and
// answers the same reply batch a host would. So ordering, per-turn batching,
// timeouts, callbacks and sync calls (a blocking round trip to Redis on the
// calling thread) are the same code as for a worker's socket.
//
// What Redis cannot do as the local store does is declared in
// `capabilities` and written in the README's "Redis backend" section.

const { NativeRedis } = require('../native')
const { SharedMemoryError } = require('../errors')
const { NearCache, nearId } = require('../near-cache')
const { OPS, Request } = require('../ops')
const { BatchingBackend } = require('./batching')

/** Near-cache hits answered at once per turn of the event loop; then on the next turn, so invalidations get in. */
const ANSWER_AT_ONCE = 256

class RedisTransport {
  name = 'redis'
  /** What differs from a host of our own (lib/backend.js, CAPABILITIES). */
  capabilities = Object.freeze({
    atomicBatch: false, // a turn's requests are one pipeline, not one transaction
    lockReleaseOnExit: false, // a dead holder's lock passes on when its lease ends
    watchValues: false, // keyspace notifications carry no value
    lruByCount: false, // Redis bounds memory (maxmemory), never a number of keys
  })
  #native
  #backend = null
  #pings = []
  #closed = false
  /** Gets `#` messages (the near-cache's). */
  onNear = null

  constructor(options) {
    this.#native = new NativeRedis(options, (message) => this.#receive(message))
  }

  #receive(message) {
    if (message[0] === '?') {
      const ping = this.#pings.shift()
      if (!ping) return
      if (message === '?ok') return ping.resolve()
      const space = message.indexOf(' ')
      return ping.reject(new SharedMemoryError(message.slice(1, space), `sharedmemory: ${message.slice(space + 1)}`))
    }
    if (message[0] === '#') {
      if (this.onNear) this.onNear(message)
      return
    }
    if (this.#backend) this.#backend.receive(message)
  }

  attach(backend) {
    this.#backend = backend
  }

  send(batch) {
    return this.#native.send(batch)
  }

  /** Blocks until Redis answered the batch (or it failed: each reply then says why). */
  sendSync(batch, timeout) {
    return this.#native.request(batch, timeout)
  }

  /** Resolves once the server answers a PING (connecting first); rejects with its coded error. */
  ping() {
    if (this.#closed) return Promise.reject(new SharedMemoryError('ERR_CLOSED', 'sharedmemory: close() was called in this process'))
    // The native thread does not hold the event loop: a timer keeps this process alive for the answer.
    const hold = setTimeout(() => {}, 2 ** 30)
    return new Promise((resolve, reject) => {
      this.#pings.push({ resolve, reject })
      this.#native.ping()
    }).finally(() => clearTimeout(hold))
  }

  hello() {}

  close() {
    this.#closed = true
    this.#backend = null
    this.#native.close()
    const err = new SharedMemoryError('ERR_CLOSED', 'sharedmemory: close() was called in this process')
    for (const ping of this.#pings.splice(0)) ping.reject(err)
  }
}

class RedisBackend extends BatchingBackend {
  #transport
  #near = null
  #answeredNow = 0

  /** @param {object} config the normalized init() config (lib/config.js), with its `redis` part */
  constructor(config) {
    const transport = new RedisTransport(nativeOptions(config))
    const limits = { maxValueSize: config.maxValueSize, serialization: config.serialization }
    super(transport, {
      timeout: config.timeout,
      connectTimeout: config.connectTimeout,
      serialization: config.serialization,
      ready: limits,
      keepAlive: true, // nothing else keeps a script alive while Redis answers
    })
    this.#transport = transport
    if (config.nearCache) {
      const near = new NearCache(config.nearCache)
      this.#near = near
      transport.onNear = (message) => near.receive(message)
    }
  }

  /** The near-cache, when the nearCache option is on (for tests and stats). */
  get nearCache() {
    return this.#near
  }

  request(request) {
    const near = this.#near
    if (near === null) return super.request(request)
    if (request.op === 'get') {
      const id = nearId(request.ns, request.key)
      const text = near.lookup(id)
      if (text !== undefined) return this.#answer(request.map, text)
      const token = near.begin(id)
      const map = request.map
      const read = new Request('get', request.ns, request.key, request.arg, request.options, (value) => {
        near.end(token, value === undefined ? undefined : JSON.stringify(value))
        return map ? map(value) : value
      })
      const promise = super.request(read)
      promise.catch(() => near.end(token, undefined))
      return promise
    }
    this.#written(request)
    return super.request(request)
  }

  requestSync(requests) {
    const near = this.#near
    if (near !== null) {
      if (requests.length === 1 && requests[0].op === 'get') {
        const text = near.lookup(nearId(requests[0].ns, requests[0].key))
        if (text !== undefined) return [requests[0].map ? requests[0].map(JSON.parse(text)) : JSON.parse(text)]
      }
      for (const request of requests) this.#written(request)
    }
    return super.requestSync(requests)
  }

  /** A write of this process drops what it changes from the near-cache before it is sent. */
  #written(request) {
    const flags = OPS[request.op]
    if (flags.readOnly || flags.owned) return
    if (flags.keyed) this.#near.invalidate(nearId(request.ns, request.key))
    else this.#near.flush() // mset, clear: many keys at once
  }

  /** A near-cache hit, answered at once, or after the event loop turned (see ANSWER_AT_ONCE). */
  #answer(map, text) {
    if (this.#answeredNow++ === 0) setImmediate(() => (this.#answeredNow = 0))
    const settle = () => {
      const value = JSON.parse(text)
      return map ? map(value) : value
    }
    if (this.#answeredNow <= ANSWER_AT_ONCE) {
      try {
        return Promise.resolve(settle())
      } catch (err) {
        const failed = Promise.reject(err)
        failed.catch(() => {})
        return failed
      }
    }
    const later = new Promise((resolve) => setImmediate(resolve)).then(settle)
    later.catch(() => {})
    return later
  }

  /** Resolves once the Redis server answers; rejects with ERR_REDIS_UNAVAILABLE (or ERR_TIMEOUT) when it does not. */
  ready() {
    return super.ready().then(() => this.#transport.ping())
  }
}

/** What the Rust client is built with. */
function nativeOptions(config) {
  const { redis, cache } = config
  return {
    url: redis.url,
    prefix: redis.prefix,
    hashTagNamespace: redis.hashTag === 'namespace',
    slidingMs: cache && cache.type === 'expire' ? cache.expire : undefined,
    timeoutMs: config.timeout,
    connectTimeoutMs: config.connectTimeout,
    configureNotifications: redis.notifications === 'configure',
    nearTracking: config.nearCache !== null,
    cluster: redis.cluster,
  }
}

module.exports = { RedisBackend, RedisTransport }
