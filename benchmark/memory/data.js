'use strict'

// The entries of the memory test: key `k:123456`, value a 19-character string
// (21 bytes as JSON, the form both stores keep).

const BATCH = 5000

function entryKey(i) {
  return `k:${String(i).padStart(6, '0')}`
}

function entryValue(i) {
  return `session-${String(i).padStart(6, '0')}-ok`
}

/** The entries [from, to) as an object, for one mset. */
function batch(from, to) {
  const out = {}
  for (let i = from; i < to; i++) out[entryKey(i)] = entryValue(i)
  return out
}

module.exports = { BATCH, entryKey, entryValue, batch }
