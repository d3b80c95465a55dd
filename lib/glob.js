'use strict'

// Redis KEYS globs as keys() and watch() take them (src/store/glob.rs
// matches them): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\` escapes.

const { SharedMemoryError } = require('./errors')

/**
 * Refuses a pattern the matcher would read in a way its writer hardly meant:
 * a class `[` that is never closed (Redis lets it run to the end, so
 * keys('[') silently matches nothing) or a trailing lone `\`.
 */
function checkGlob(pattern, call) {
  const bad = (why) =>
    new SharedMemoryError('ERR_INVALID_ARGUMENT', `sharedmemory: ${call}() was given an invalid glob ${JSON.stringify(pattern)}: ${why}`)
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw bad('it ends with a lone \\ (write \\\\ for a backslash)')
      i += 2
    } else if (c === '[') {
      let k = i + 1
      if (pattern[k] === '^') k++
      while (k < pattern.length && pattern[k] !== ']') k += pattern[k] === '\\' && k + 1 < pattern.length ? 2 : 1
      if (k >= pattern.length) throw bad(`the [ at ${i} is never closed by ] (write \\[ for a literal [)`)
      i = k + 1
    } else {
      i++
    }
  }
  return pattern
}

/** `text` as a glob that matches only itself (for keys(prefix + '*')). */
function escapeGlob(text) {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

module.exports = { checkGlob, escapeGlob }
