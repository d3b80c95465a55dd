'use strict'

// Fresh copies of a value JSON.parse made, each equal to what JSON.parse
// of the same text would give again: the same own keys in the same order
// (V8's: integer-like keys first), `__proto__` as an own key, plain
// prototypes, dense arrays, and no object shared with the original or
// another copy (callers mutate what they get).
//
// A generic recursive copy costs about as much as JSON.parse itself. A
// function written for one shape of value (its keys, nesting and array
// lengths) and compiled once (`new Function`) builds the copy as object
// and array literals, which V8 makes about as fast as a literal in source:
// several times cheaper than parsing the text again. Shapes are bounded
// in number and in size; a value beyond them gets no copier (null), and
// its reader parses it each time, as before.

/** The most shapes (compiled functions) a process keeps. */
const MAX_SHAPES = 256
/** The most objects, arrays and values one shape may have (arrays of plain values count one). */
const MAX_NODES = 64
/** The deepest nesting of objects and arrays a shape may have. */
const MAX_DEPTH = 8
/** The longest description a shape may have (its keys' text, mostly). */
const MAX_SHAPE_TEXT = 2048

/** Arrays of plain values up to this long are copied as literals (their length is part of the shape). */
const MAX_LITERAL_ARRAY = 16

// Taken once: what user code later does to the globals cannot change a copy.
const { isArray } = Array
const { keys: ownKeys } = Object

/** A copy of an array of plain values, of any length. */
function copyPlain(array) {
  const copy = []
  for (let i = 0; i < array.length; i++) copy[i] = array[i]
  return copy
}

/**
 * The copiers of one process's shapes. Once MAX_SHAPES are made, a value
 * of a new shape gets none: compiling a function costs far more than a
 * parse, so shapes are never replaced (values whose shapes never repeat,
 * such as objects keyed by ids, would make one each).
 */
class Copiers {
  #shapes = new Map() // shape text → copier

  /** Shapes made. */
  get size() {
    return this.#shapes.size
  }

  /**
   * A function that makes a fresh copy of `value` (a result of JSON.parse
   * not given to anyone, kept as the original) each time it is called with
   * it, or null when `value` is no object or array, or too large or deep,
   * or of a new shape once there is no room for one. The copier serves
   * every value of the same shape.
   */
  of(value) {
    if (value === null || typeof value !== 'object') return null
    const shape = shapeOf(value, 0, { nodes: 0, length: 0 })
    if (shape === null) return null
    let copier = this.#shapes.get(shape)
    if (copier === undefined) {
      if (this.#shapes.size >= MAX_SHAPES) return null
      // Every key is written as JSON text: a string literal, never code.
      copier = new Function('copyPlain', `'use strict'; return function copy(v) { return ${codeOf(value, 'v')} }`)(copyPlain)
      this.#shapes.set(shape, copier)
    }
    return copier
  }
}

/** Whether `value` is a string, number, boolean or null (what JSON.parse shares no object for). */
function plain(value) {
  return value === null || typeof value !== 'object'
}

function allPlain(array) {
  for (let i = 0; i < array.length; i++) if (!plain(array[i])) return false
  return true
}

/**
 * The text naming `value`'s shape: equal for two values exactly when one
 * copier serves both. null past the bounds.
 */
function shapeOf(value, depth, walk) {
  if (++walk.nodes > MAX_NODES || depth > MAX_DEPTH) return null
  let text
  if (isArray(value)) {
    if (allPlain(value)) return value.length <= MAX_LITERAL_ARRAY ? `*${value.length}` : '*'
    const parts = []
    for (const item of value) {
      const part = plain(item) ? leaf(walk) : shapeOf(item, depth + 1, walk)
      if (part === null) return null
      parts.push(part)
    }
    text = `[${parts.join(',')}]`
  } else {
    const parts = []
    for (const key of ownKeys(value)) {
      const item = value[key]
      const part = plain(item) ? leaf(walk) : shapeOf(item, depth + 1, walk)
      if (part === null) return null
      parts.push(`${JSON.stringify(key)}:${part}`)
    }
    text = `{${parts.join(',')}}`
  }
  walk.length += text.length
  return walk.length > MAX_SHAPE_TEXT ? null : text
}

/** The shape of a plain value (one more node), or null past the bounds. */
function leaf(walk) {
  return ++walk.nodes > MAX_NODES ? null : '_'
}

/**
 * The expression copying `value` (reached as `path` from the copier's
 * argument). Keys are defined in the order Object.keys gives them, which
 * is the order the copy then has; `__proto__` is a computed key, since as
 * a literal one it would set the prototype instead of an own property.
 */
function codeOf(value, path) {
  if (isArray(value)) {
    if (allPlain(value) && value.length > MAX_LITERAL_ARRAY) return `copyPlain(${path})`
    return `[${value.map((item, i) => (plain(item) ? `${path}[${i}]` : codeOf(item, `${path}[${i}]`))).join(',')}]`
  }
  const fields = ownKeys(value).map((key) => {
    const name = JSON.stringify(key)
    const item = value[key]
    const code = plain(item) ? `${path}[${name}]` : codeOf(item, `${path}[${name}]`)
    return `${key === '__proto__' ? `[${name}]` : name}:${code}`
  })
  return `{${fields.join(',')}}`
}

module.exports = { Copiers, MAX_SHAPES, MAX_NODES, MAX_DEPTH }
