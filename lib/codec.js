'use strict'

// Turns keys and values into the JSON text the store keeps (see src/protocol.rs).

const { SharedMemoryError, invalidKey } = require('./errors')
const { encodeAdvanced, decodeValue } = require('./serialization')

/** Keys are strings; numbers become strings, as in sharedmemory 0.0.7. */
function encodeKey(key) {
  if (typeof key === 'string') return JSON.stringify(key)
  if (typeof key === 'number') return JSON.stringify(String(key))
  throw invalidKey(key)
}

/**
 * Values are stored as JSON, the format Node's cluster IPC uses, so they
 * come back as `process.send` would deliver them. With `serialization`
 * 'advanced', as a JSON string holding node:v8's serialization (see
 * ./serialization.js); `maxBytes` applies to the encoded text either way.
 */
function encodeValue(value, maxBytes, serialization) {
  const text = serialization === 'advanced' ? encodeAdvanced(value) : encodeJson(value)
  if (text === undefined) {
    throw new SharedMemoryError(
      'ERR_INVALID_VALUE',
      `sharedmemory: a ${typeof value} cannot be stored as JSON (use undefined to remove a key)`,
    )
  }
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes: count bytes only when it matters.
  if (maxBytes !== undefined && text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text)
    if (size > maxBytes) {
      throw new SharedMemoryError(
        'ERR_VALUE_TOO_LARGE',
        `sharedmemory: the value takes ${size} bytes encoded; the limit is ${maxBytes} (raise it with the maxValueSize option)`,
      )
    }
  }
  return text
}

// Characters JSON.stringify escapes in a string: '"', '\\' and the controls below 0x20.
const CONTROLS = Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code))
const FAST_STRING_MIN = 1024

/**
 * JSON.stringify(text) for a long string that needs no escaping, found
 * with a few fast scans (V8's JSON.stringify copies a long string one
 * character at a time: about 3 ms per MB here); undefined when it would
 * need escaping. The result is the same text JSON.stringify gives.
 */
function quoteLongString(text) {
  if (Buffer.byteLength(text) !== text.length) return undefined // not all ASCII (or a lone surrogate)
  if (text.includes('"') || text.includes('\\')) return undefined
  for (const control of CONTROLS) if (text.includes(control)) return undefined
  return `"${text}"`
}

function encodeJson(value) {
  if (typeof value === 'string' && value.length >= FAST_STRING_MIN) {
    const quoted = quoteLongString(value)
    if (quoted !== undefined) return quoted
  }
  try {
    return JSON.stringify(value)
  } catch (cause) {
    throw new SharedMemoryError('ERR_INVALID_VALUE', `sharedmemory: the value cannot be stored as JSON: ${cause.message}`, {
      cause,
    })
  }
}

module.exports = { encodeKey, encodeValue, decodeValue }
