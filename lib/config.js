'use strict'

// init() options: defaults, validation and the normalized form the rest of the code reads.

const path = require('node:path')

const { SharedMemoryError, shown } = require('./errors')
const { normalizeSerialization } = require('./serialization')

const defaults = Object.freeze({
  lruMax: 10000,
  expire: 30 * 60 * 1000,
  timeout: 5000,
  connectTimeout: 3000,
  maxValueSize: 16 * 1024 * 1024,
  callbackStyle: 'value',
  transport: 'socket',
  // How values are stored: 'json' (as 0.0.7) or 'advanced' (node:v8, which
  // keeps Buffers, Dates, Maps, Sets, BigInts, cycles...). Every process of
  // the app must use the same; see lib/serialization.js.
  serialization: 'json',
  // Whether workers read get()s straight from a segment of shared memory
  // the host publishes its store to (Linux), instead of asking the host.
  sharedReads: true,
  // Characters of value text whose parsed objects and arrays a worker keeps
  // to answer repeated shared reads of an unchanged entry without
  // JSON.parse (a fresh copy each time); 0: none.
  sharedReadCache: 4 * 1024 * 1024,
  // With persist: ms between snapshots of the store (written only when it changed).
  persistInterval: 1000,
})

const knownKeys = [
  'name',
  'cache',
  'manager',
  'timeout',
  'connectTimeout',
  'maxValueSize',
  'callbackStyle',
  'transport',
  'serialization',
  'sharedReads',
  'sharedReadCache',
  'persist',
  'host',
  'redis',
  'nearCache',
]

const cacheKeys = ['type', 'max', 'maxBytes', 'expire', 'time']

/**
 * Warns about the options of `object` that are none of `known` (a typo
 * such as cache.maxbytes would otherwise be ignored without a word), naming
 * the known one it differs from only in case.
 */
function warnUnknown(object, known, path) {
  const unknown = Object.keys(object).filter((key) => !known.includes(key))
  if (unknown.length === 0) return
  const described = unknown.map((key) => {
    const meant = known.find((name) => name.toLowerCase() === key.toLowerCase())
    return meant ? `${path}${key} (did you mean ${path}${meant}?)` : `${path}${key}`
  })
  process.emitWarning(`sharedmemory: init() ignores unknown option(s) ${described.join(', ')}`, 'SharedMemoryWarning')
}

function fail(message) {
  return new SharedMemoryError('ERR_INVALID_CONFIG', `sharedmemory: ${message}`)
}

function positive(value, name, { integer = false } = {}) {
  const ok = typeof value === 'number' && value > 0 && Number.isFinite(value) && (!integer || Number.isInteger(value))
  if (!ok) throw fail(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${shown(value)}`)
  return value
}

function normalizeCache(cache) {
  if (cache === undefined || cache === null) return null
  if (typeof cache !== 'object') throw fail('cache must be an object like {type: "LRU", max: 10000}')
  warnUnknown(cache, cacheKeys, 'cache.')
  const type = String(cache.type).toLowerCase()
  const maxBytes = cache.maxBytes === undefined ? null : positive(cache.maxBytes, 'cache.maxBytes', { integer: true })
  if (type === 'lru') {
    return {
      type: 'LRU',
      max: cache.max === undefined ? defaults.lruMax : positive(cache.max, 'cache.max', { integer: true }),
      maxBytes,
    }
  }
  if (type === 'expire') {
    // 0.0.7 documented `expire` but read `time`: both are accepted.
    const expire = cache.expire !== undefined ? cache.expire : cache.time
    return {
      type: 'expire',
      expire: expire === undefined ? defaults.expire : positive(expire, 'cache.expire'),
      max: cache.max === undefined ? null : positive(cache.max, 'cache.max', { integer: true }),
      maxBytes,
    }
  }
  throw fail(`cache.type must be "LRU" or "expire", got ${JSON.stringify(cache.type)}`)
}

/** The `name` option: a store shared by name among this user's processes; null when not given. */
function normalizeName(name) {
  if (name === undefined || name === null) return null
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) {
    throw fail(`name must be a non-empty string of at most 1024 characters, got ${typeof name === 'string' ? JSON.stringify(name) : typeof name}`)
  }
  return name
}

/** The URL schemes the Redis backend connects with: TCP, TLS, and a unix socket. */
const REDIS_SCHEMES = ['redis:', 'rediss:', 'unix:', 'redis+unix:']
const REDIS_OPTIONS = ['url', 'prefix', 'hashTag', 'notifications', 'cluster']
/** What the Redis backend's `prefix` is when none is given. */
const REDIS_PREFIX = 'sm:'

/**
 * The `redis` option: a URL string, or {url, prefix, hashTag, notifications};
 * null when not given (the store lives in this machine's processes).
 */
function normalizeRedis(redis) {
  if (redis === undefined || redis === null || redis === false) return null
  if (typeof redis === 'string') redis = { url: redis }
  if (typeof redis !== 'object') throw fail('redis must be a URL string or an options object like {url, prefix}')
  const unknown = Object.keys(redis).filter((key) => !REDIS_OPTIONS.includes(key))
  if (unknown.length > 0) throw fail(`redis takes ${REDIS_OPTIONS.join(', ')}; got ${unknown.join(', ')}`)
  const url = redis.url === undefined ? 'redis://127.0.0.1:6379' : redis.url
  if (typeof url !== 'string' || !REDIS_SCHEMES.some((scheme) => url.startsWith(`${scheme}/`))) {
    throw fail(`redis.url must start with ${REDIS_SCHEMES.map((s) => `${s}//`).join(', ')}, got ${JSON.stringify(url)}`)
  }
  const prefix = redis.prefix === undefined ? REDIS_PREFIX : redis.prefix
  if (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 1024) {
    throw fail(`redis.prefix must be a string of at most 1024 characters without '{' or '}', got ${JSON.stringify(prefix)}`)
  }
  if (redis.hashTag !== undefined && redis.hashTag !== 'namespace') throw fail("redis.hashTag must be 'namespace' when given")
  const notifications = redis.notifications === undefined ? 'check' : redis.notifications
  if (notifications !== 'check' && notifications !== 'configure') throw fail("redis.notifications must be 'check' or 'configure'")
  const cluster = redis.cluster === undefined ? false : redis.cluster
  if (typeof cluster !== 'boolean') throw fail('redis.cluster must be true or false')
  if (cluster && !/^rediss?:\/\//.test(url)) throw fail('redis.cluster needs a redis:// or rediss:// URL of one of its nodes')
  return { url, prefix, hashTag: redis.hashTag === undefined ? null : redis.hashTag, notifications, cluster }
}

/**
 * The nearCache option (Redis only): {max, maxBytes} bounds on what this
 * process keeps of what it read; null when off.
 */
function normalizeNearCache(nearCache, redis, cache) {
  if (nearCache === undefined || nearCache === null || nearCache === false) return null
  if (redis === null) throw fail('nearCache is for the Redis backend: give redis too')
  if (nearCache === true) nearCache = {}
  if (typeof nearCache !== 'object') throw fail('nearCache must be an object like {max: 10000, maxBytes: 67108864}')
  const unknown = Object.keys(nearCache).filter((key) => key !== 'max' && key !== 'maxBytes')
  if (unknown.length > 0) throw fail(`nearCache takes max and maxBytes; got ${unknown.join(', ')}`)
  if (cache && String(cache.type).toLowerCase() === 'expire') {
    throw fail("nearCache cannot be combined with cache: {type: 'expire'}: reads served from it would not extend a key's idle time on the server")
  }
  return {
    max: nearCache.max === undefined ? 10000 : positive(nearCache.max, 'nearCache.max', { integer: true }),
    maxBytes: nearCache.maxBytes === undefined ? 64 * 1024 * 1024 : positive(nearCache.maxBytes, 'nearCache.maxBytes', { integer: true }),
  }
}

/**
 * The `persist` option: {path, interval} with the path made absolute (a
 * later chdir does not move the file), or null. `persist: 'file'` is
 * short for `{path: 'file'}`.
 */
function normalizePersist(persist) {
  if (persist === undefined || persist === null || persist === false) return null
  if (typeof persist === 'string') persist = { path: persist }
  if (typeof persist !== 'object') throw fail('persist must be a file path or {path, interval}')
  const unknown = Object.keys(persist).filter((key) => key !== 'path' && key !== 'interval')
  if (unknown.length > 0) throw fail(`persist takes path and interval, not ${unknown.join(', ')}`)
  if (typeof persist.path !== 'string' || persist.path === '' || persist.path.includes('\0')) {
    throw fail(`persist.path must be the path of a file, got ${JSON.stringify(persist.path)}`)
  }
  const interval = persist.interval === undefined ? defaults.persistInterval : positive(persist.interval, 'persist.interval')
  return { path: path.resolve(persist.path), interval }
}

/** The `host` option: 'auto' (elect a host among the processes) or 'external' (never host: a sharedmemory-host does). */
function normalizeHost(host) {
  if (host === undefined || host === null || host === 'auto') return 'auto'
  if (host === 'external') return host
  throw fail(`host must be "auto" or "external", got ${JSON.stringify(host)}`)
}

/** Validates init()'s argument and fills in every default. */
function normalizeConfig(config) {
  if (config === undefined || config === null) config = {}
  if (typeof config !== 'object') throw fail('init() takes an options object')
  warnUnknown(config, knownKeys, '')
  const callbackStyle = config.callbackStyle === undefined ? defaults.callbackStyle : config.callbackStyle
  if (callbackStyle !== 'value' && callbackStyle !== 'error-first') {
    throw fail('callbackStyle must be "value" or "error-first"')
  }
  const transport = config.transport === undefined ? defaults.transport : config.transport
  if (transport !== 'socket' && transport !== 'ipc') throw fail('transport must be "socket" or "ipc"')
  const sharedReads = config.sharedReads === undefined ? defaults.sharedReads : config.sharedReads
  if (typeof sharedReads !== 'boolean') throw fail(`sharedReads must be true or false, got ${shown(sharedReads)}`)
  const sharedReadCache = config.sharedReadCache === undefined ? defaults.sharedReadCache : config.sharedReadCache
  if (!Number.isSafeInteger(sharedReadCache) || sharedReadCache < 0) {
    throw fail(`sharedReadCache must be a whole number of bytes, 0 or more, got ${shown(sharedReadCache)}`)
  }
  const name = normalizeName(config.name)
  if (name !== null && config.manager !== undefined && config.manager !== null) {
    throw fail('name and manager cannot be combined: a store found by name elects its own host')
  }
  const redis = normalizeRedis(config.redis)
  if (redis !== null && (name !== null || (config.manager !== undefined && config.manager !== null))) {
    throw fail('redis cannot be combined with name or manager: with redis, every process is a client of the Redis server')
  }
  if (redis !== null && config.cache && (config.cache.max !== undefined || config.cache.maxBytes !== undefined || String(config.cache.type).toLowerCase() === 'lru')) {
    process.emitWarning(
      "sharedmemory: on Redis, cache.max, cache.maxBytes and type 'LRU' are ignored: bound memory with the server's maxmemory and maxmemory-policy",
      'SharedMemoryWarning',
    )
  }
  const nearCache = normalizeNearCache(config.nearCache, redis, config.cache)
  if (name !== null && transport === 'ipc') {
    throw fail('a store found by name is reached over its socket: transport "ipc" cannot be used with name')
  }
  const persist = normalizePersist(config.persist)
  const host = normalizeHost(config.host)
  if (redis !== null && (persist !== null || host !== 'auto')) {
    throw fail('redis cannot be combined with persist or host: the Redis server keeps the store (persist it with its own RDB or AOF)')
  }
  if (host === 'external' && persist !== null) {
    throw fail('with host "external" this process never hosts the store, so it writes no snapshot: give persist to sharedmemory-host')
  }
  return {
    name,
    redis,
    nearCache,
    host,
    persist,
    transport,
    cache: normalizeCache(config.cache),
    manager: config.manager === undefined || config.manager === null ? null : positive(config.manager, 'manager', { integer: true }),
    timeout: config.timeout === undefined ? defaults.timeout : positive(config.timeout, 'timeout'),
    connectTimeout: config.connectTimeout === undefined ? defaults.connectTimeout : positive(config.connectTimeout, 'connectTimeout'),
    maxValueSize:
      config.maxValueSize === undefined ? defaults.maxValueSize : positive(config.maxValueSize, 'maxValueSize', { integer: true }),
    callbackStyle,
    serialization: normalizeSerialization(config.serialization, fail),
    // Shared memory segments are built on Linux's memfd.
    sharedReads: sharedReads && process.platform === 'linux',
    sharedReadCache,
  }
}

/** What the Rust store is built with. */
function storeOptions(config) {
  const { cache } = config
  return {
    maxEntries: cache && cache.max !== null ? cache.max : undefined,
    maxBytes: cache && cache.maxBytes !== null ? cache.maxBytes : undefined,
    idleExpiryMs: cache && cache.type === 'expire' ? cache.expire : undefined,
    maxValueBytes: Math.min(config.maxValueSize, 0xffffffff),
    sharedReads: config.sharedReads,
  }
}

module.exports = { defaults, normalizeConfig, storeOptions }
