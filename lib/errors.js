'use strict'

const { inspect } = require('node:util')

/**
 * Every error code this package produces, with what it means. The README's
 * "Errors" table is the long form of these lines.
 */
const codes = Object.freeze({
  ERR_INVALID_KEY: 'a key must be a string or a number',
  ERR_KEY_TOO_LARGE: 'the encoded key is longer than 64 KiB',
  ERR_INVALID_VALUE: 'the value cannot be encoded (as JSON, or by node:v8 with serialization "advanced")',
  ERR_VALUE_TOO_LARGE: 'the encoded value is longer than maxValueSize',
  ERR_NOT_A_NUMBER: 'plusOne met a value that is not a number',
  ERR_TIMEOUT: 'no reply within the timeout',
  ERR_NO_HOST: 'no process is serving the store',
  ERR_HOST_EXITED: 'the process serving the store went away',
  ERR_NOT_READY: 'a sync call was made before the connection to the store was ready',
  ERR_SYNC_UNAVAILABLE: 'sync calls need the socket transport',
  ERR_INVALID_CONFIG: 'init() was given a config it cannot use',
  ERR_INVALID_ARGUMENT: 'a method was given an option or amount it cannot use',
  ERR_PROTOCOL: 'a malformed request or reply',
  ERR_LOCK_TIMEOUT: 'a lock was held by another process for longer than the wait option allowed',
  ERR_WATCH_OVERFLOW: 'this process fell so far behind on watch events that some were dropped',
  ERR_SERIALIZATION_MISMATCH: 'this process and the one hosting the store were given different serialization options',
  ERR_CLOSED: 'close() was called in this process',
  ERR_NAME_TAKEN: "the socket name of a store elected by name is held by another user's process",
  ERR_UNSAFE_RUNTIME_DIR: 'the runtime directory for token files is not a private directory of this user',
  ERR_UNSUPPORTED_PLATFORM: 'no native binary is built for this platform (thrown by require())',
  ERR_REDIS_UNAVAILABLE: 'the Redis server cannot be reached (refused, closed, or reconnecting)',
  ERR_REDIS: 'the Redis server answered with an error this package does not expect',
  ERR_REDIS_NOTIFICATIONS: 'watch() on Redis needs keyspace notifications, which the server does not send',
  ERR_SNAPSHOT_CORRUPT: 'the snapshot file is truncated, damaged or of another format version: it was set aside, not loaded',
  ERR_SNAPSHOT_FAILED: 'a snapshot could not be written, or the snapshot file could not be read',
})

/** The error every failed call rejects with; `code` is one of `codes`. */
class SharedMemoryError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'SharedMemoryError'
    this.code = code
  }
}

/**
 * A value as a message shows it: a string quoted ('100'), so it is told
 * apart from the number (100); objects briefly.
 */
function shown(value) {
  return inspect(value, { depth: 0, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })
}

/** Bad key types are a TypeError, like Node's own ERR_INVALID_ARG_TYPE. */
function invalidKey(key) {
  const shown = typeof key === 'symbol' ? key.toString() : typeof key
  const err = new TypeError(`sharedmemory: a key must be a string or a number, got ${shown}`)
  err.code = 'ERR_INVALID_KEY'
  return err
}

module.exports = { SharedMemoryError, codes, invalidKey, shown }
