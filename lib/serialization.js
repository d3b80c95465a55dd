'use strict'

// The `serialization` option: how values become the JSON text the store
// keeps, and back.
//
// - 'json' (the default, what sharedmemory 0.0.7 did): the value's
//   JSON.stringify text. Nothing needs decoding.
// - 'advanced': Node's V8 serializer (node:v8), which keeps Buffers, typed
//   arrays, Dates, Maps, Sets, BigInts, RegExps, `undefined` inside objects
//   and cycles. The store still holds JSON text (the Rust side never looks
//   inside values), so a value is stored as a JSON *string*: MARKER followed
//   by the base64 of v8.serialize(value). Plain finite numbers are the one
//   exception: they stay JSON numbers, so incr()/plusOne() keep working on
//   counters written with set(). Every string, even an empty one, is
//   serialized, so a stored string is never mistaken for an encoded value.
//
// Both sides of a store must use the same setting: the host announces its
// own in the welcome envelope, and a worker whose setting differs refuses
// every call with ERR_SERIALIZATION_MISMATCH (see `mismatch`) rather than
// reading or writing values it would misunderstand.

const v8 = require('node:v8')

const { SharedMemoryError } = require('./errors')

const MODES = ['json', 'advanced']
const DEFAULT = 'json'

/** Starts the JSON string of every value encoded in 'advanced' mode. */
const MARKER = '\u0000v8:'
const MARKER_JSON = JSON.stringify(MARKER).slice(0, -1) // '"\u0000v8:' as JSON text, without the closing quote

/**
 * The JSON text of `value` in 'advanced' mode. Throws ERR_INVALID_VALUE
 * (as JSON mode does for what JSON cannot carry) for what V8 cannot
 * serialize: functions, symbols, and objects holding them.
 */
function encodeAdvanced(value) {
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value)
  let bytes
  try {
    bytes = v8.serialize(value)
  } catch (cause) {
    throw new SharedMemoryError(
      'ERR_INVALID_VALUE',
      `sharedmemory: the value cannot be stored with serialization 'advanced' (node:v8): ${cause.message}`,
      { cause },
    )
  }
  return `${MARKER_JSON}${bytes.toString('base64')}"`
}

/**
 * Turns a value the store answered (already parsed from its JSON text) back
 * into what was stored. The identity in 'json' mode. In 'advanced' mode,
 * strings carrying MARKER are deserialized; anything else (numbers, which
 * stay plain, and the results of incr) is answered as it came.
 */
function decodeValue(value, mode) {
  if (mode !== 'advanced' || typeof value !== 'string' || !value.startsWith(MARKER)) return value
  try {
    return v8.deserialize(Buffer.from(value.slice(MARKER.length), 'base64'))
  } catch (cause) {
    throw new SharedMemoryError(
      'ERR_PROTOCOL',
      `sharedmemory: a stored value could not be deserialized (serialization 'advanced'): ${cause.message}`,
      { cause },
    )
  }
}

/** Validates the init() option; `fail(message)` makes the config error. */
function normalizeSerialization(value, fail) {
  if (value === undefined) return DEFAULT
  if (!MODES.includes(value)) throw fail(`serialization must be "json" or "advanced", got ${JSON.stringify(value)}`)
  return value
}

/**
 * Compares this process's setting with the one the host announced (a host
 * that announces none predates the option, so it uses 'json'). Answers the
 * ERR_SERIALIZATION_MISMATCH error to refuse every call with, or null.
 */
function mismatch(own, announced) {
  const host = announced === undefined || announced === null ? DEFAULT : String(announced)
  if ((own || DEFAULT) === host) return null
  return new SharedMemoryError(
    'ERR_SERIALIZATION_MISMATCH',
    `sharedmemory: this process was initialized with serialization '${own || DEFAULT}', but the process ` +
      `hosting the store (the master, or the manager worker in relay mode) uses '${host}'. Values written ` +
      'with one cannot be read with the other, so every call is refused: pass the same `serialization` ' +
      'option to init() in every process.',
  )
}

module.exports = { MODES, DEFAULT, MARKER, encodeAdvanced, decodeValue, normalizeSerialization, mismatch }
