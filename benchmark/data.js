'use strict'

// The data every peer stores: the same keys and values for all of them.

/** The i-th preloaded key. */
function key(i) {
  return `key:${i}`
}

/**
 * A ~100-byte JSON object for key i; `version` changes with each write.
 * With `kind` 'string', a ~100-character string instead.
 */
function value(i, version = 0, kind = 'object') {
  if (kind === 'string') return `${i}|${version}|user-${String(i).padStart(6, '0')}|user${i}@example.com|reader,writer|active|`.padEnd(100, '.')
  return {
    id: i,
    version,
    name: `user-${String(i).padStart(6, '0')}`,
    email: `user${i}@example.com`,
    roles: ['reader', 'writer'],
    active: true,
    score: 1000 + (i % 997),
  }
}

/** Every preloaded [key, value] pair. */
function entries(count, kind = 'object') {
  return Array.from({ length: count }, (_, i) => [key(i), value(i, 0, kind)])
}

/** Whether a read of key i answered a value written for key i. */
function isValue(i, v, kind = 'object') {
  if (kind === 'string') return typeof v === 'string' && v.startsWith(`${i}|`)
  return v !== null && typeof v === 'object' && v.id === i
}

/** A string of `size` ASCII characters (a "100 KiB value" is a 102,400-char string). */
function bigString(size, seed) {
  const unit = `${seed}:abcdefghijklmnopqrstuvwxyz0123456789|`
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
}

function randomIndex(n) {
  return Math.floor(Math.random() * n)
}

module.exports = { key, value, entries, isValue, bigString, randomIndex }
