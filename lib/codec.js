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

function encodeJson(value) {
  try {
    return JSON.stringify(value)
  } catch (cause) {
    throw new SharedMemoryError('ERR_INVALID_VALUE', `sharedmemory: the value cannot be stored as JSON: ${cause.message}`, {
      cause,
    })
  }
}

module.exports = { encodeKey, encodeValue, decodeValue }
