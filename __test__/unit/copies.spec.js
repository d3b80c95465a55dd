'use strict'

// The copies a worker hands out of the objects it keeps from shared reads
// (lib/copies.js, lib/read-cache.js): for random JSON texts, each copy is
// what JSON.parse of the text gives (deep-equal, the same own keys in the
// same order, plain prototypes, `__proto__` an own key), shares no object
// with the kept value or with another copy, and what a caller does to one
// copy never shows in the next.

const test = require('ava')

const { Copiers, MAX_SHAPES, MAX_DEPTH, MAX_NODES } = require('../../lib/copies')

/** A copier from a table of shapes of its own. */
const copierOf = (value) => new Copiers().of(value)
const { ReadCache, charge } = require('../../lib/read-cache')

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEYS = ['a', 'b', 'id', 'name', '__proto__', 'constructor', 'toString', '0', '1', '7', '10', '4294967294', '4294967295', '-1', '01', '1.5', 'é', '😀', '\u2028', '', ' ', 'a"b', 'x\\y', '\ud800']
const STRINGS = ['', 'text', 'été ✓ 😀', 'a"b\\c', '\n\t', '\u2028\u2029', '\ud800', '0', 'null', '__proto__']
const NUMBERS = [0, -0, 1, -1, 1.5, 1e21, -1e-7, 2 ** 53, 123456789, 0.1]

/** A random JSON-able value, up to `depth` levels of nesting. */
function jsonValue(next, depth) {
  const pick = (list) => list[Math.floor(next() * list.length)]
  const roll = next()
  if (depth <= 0 || roll < 0.35) {
    const kind = Math.floor(next() * 4)
    return kind === 0 ? pick(STRINGS) : kind === 1 ? pick(NUMBERS) : kind === 2 ? next() < 0.5 : null
  }
  const size = Math.floor(next() * (next() < 0.2 ? 24 : 6))
  if (roll < 0.6) return Array.from({ length: size }, () => jsonValue(next, depth - 1))
  // An object built as text, so that `__proto__` and repeated keys reach JSON.parse as they would.
  const fields = Array.from({ length: size }, () => `${JSON.stringify(pick(KEYS))}:${textOf(jsonValue(next, depth - 1))}`)
  return { text: `{${fields.join(',')}}` }
}

/** The JSON text of a value jsonValue() made. */
function textOf(value) {
  if (Array.isArray(value)) return `[${value.map(textOf).join(',')}]`
  if (value !== null && typeof value === 'object') return value.text
  return JSON.stringify(value)
}

/** Every object and array of `value`, depth first. */
function nodes(value, into = []) {
  if (value === null || typeof value !== 'object') return into
  into.push(value)
  for (const key of Object.keys(value)) nodes(value[key], into)
  return into
}

/** Own keys in order and prototype of every node: what deepEqual might not look at. */
function layout(value) {
  return nodes(value).map((node) => [Object.getPrototypeOf(node) === Array.prototype ? 'array' : Object.getPrototypeOf(node) === Object.prototype ? 'object' : 'other', Reflect.ownKeys(node)])
}

/** Changes everything a caller could change in `value`. */
function mutate(value) {
  for (const node of nodes(value)) {
    for (const key of Object.keys(node)) if (node[key] === null || typeof node[key] !== 'object') node[key] = 'changed'
    if (Array.isArray(node)) node.push('added')
    else node.added = true
  }
}

function checkCopy(t, copy, text, kept, seen) {
  const parsed = JSON.parse(text)
  t.deepEqual(copy, parsed, text)
  t.deepEqual(layout(copy), layout(parsed), `keys in order and prototypes: ${text}`)
  for (const node of nodes(copy)) {
    t.false(seen.has(node), `a fresh object graph: ${text}`)
    seen.add(node)
  }
}

/** Whether `value` is past a shape's bounds: more values than MAX_NODES (a list of plain values counts one) or deeper than MAX_DEPTH. */
function beyondBounds(value) {
  let count = 0
  let deepest = 0
  const visit = (v, depth) => {
    count++
    if (v === null || typeof v !== 'object') return
    deepest = Math.max(deepest, depth)
    if (Array.isArray(v) && v.every((item) => item === null || typeof item !== 'object')) return
    for (const key of Object.keys(v)) visit(v[key], depth + 1)
  }
  visit(value, 0)
  return count > MAX_NODES || deepest > MAX_DEPTH
}

test('copies of random JSON values are exactly what JSON.parse gives, fresh each time, and mutating one never shows in the next', (t) => {
  let copied = 0
  for (let seed = 1; seed <= 1000; seed++) {
    const next = random(seed)
    const text = textOf(jsonValue(next, 1 + Math.floor(next() * 5)))
    const kept = JSON.parse(text)
    const copy = copierOf(kept)
    t.is(copy === null, kept === null || typeof kept !== 'object' || beyondBounds(kept), text)
    if (copy === null) {
      t.true(kept === null || typeof kept !== 'object' || beyondBounds(kept), `only a plain value or one past the bounds gets no copier: ${text}`)
      continue
    }
    copied++
    const seen = new Set(nodes(kept))
    const first = copy(kept)
    checkCopy(t, first, text, kept, seen)
    mutate(first)
    checkCopy(t, copy(kept), text, kept, seen)
    t.deepEqual(kept, JSON.parse(text), 'the kept value is never changed')
  }
  t.true(copied > 450, `most random values are copied (${copied} of 1000)`)
  t.log(`${copied} of 1000 copied`)
})

test('the keys JSON.parse treats specially keep their meaning: __proto__ stays an own key, integer-like keys come first', (t) => {
  const texts = [
    '{"__proto__":{"polluted":true},"a":1}',
    '{"b":1,"10":2,"a":3,"1":4,"4294967295":5,"4294967294":6,"-1":7,"01":8}',
    '{"a":1,"a":2,"b":[1,{"a":3,"a":4}]}',
    '{"constructor":{"prototype":1},"toString":"x","hasOwnProperty":null}',
    '[[],{},[[]],[{}],""]',
    '{"\\u2028":"\\u2029","\\ud800":"\\udc00","é😀":[]}',
    `[${Array.from({ length: 40 }, (_, i) => i).join(',')}]`,
    `{"long":[${Array.from({ length: 17 }, (_, i) => `"s${i}"`).join(',')}],"short":[1,2]}`,
  ]
  for (const text of texts) {
    const kept = JSON.parse(text)
    const copy = copierOf(kept)
    t.truthy(copy, text)
    const got = copy(kept)
    checkCopy(t, got, text, kept, new Set(nodes(kept)))
  }
  const proto = copierOf(JSON.parse(texts[0]))(JSON.parse(texts[0]))
  t.true(Object.hasOwn(proto, '__proto__'))
  t.is(Object.getPrototypeOf(proto), Object.prototype, 'the prototype is not changed')
  t.is(({}).polluted, undefined)
})

test('the cache keeps a value read twice at one version, hands out copies of it, and stays within its bytes, the longest held going first', (t) => {
  const version = Int32Array.of(0, 0, 7, 0, 3, 10, 0)
  const later = Int32Array.of(0, 0, 7, 0, 3, 12, 0)
  const text = '{"n":1,"list":[1,{"deep":true}]}'
  const one = charge('a', text)
  const noted = charge('a', '')
  t.is(charge('sa', text), one + 1, 'the key is charged too')
  const max = 3 * one + 1
  const cache = new ReadCache(max)
  /** Two reads of `key` in `ns` at `at`, as SharedReads makes them: the second one keeps the value. */
  const twice = (ns, key, at = version) => {
    cache.take(ns, key, text, at, cache.get(ns, key))
    return cache.take(ns, key, text, at, cache.get(ns, key))
  }

  const firstRead = cache.take(null, 'a', text, version, undefined)
  t.deepEqual(firstRead, JSON.parse(text))
  const noting = cache.get(null, 'a')
  t.like(noting, { value: null, copy: null, generationLow: 7, generationHigh: 0, slot: 3, stateLow: 10, stateHigh: 0 })
  t.is(cache.bytes, noted, 'a version noted is charged as a small entry')
  const second = cache.take(null, 'a', text, version, noting)
  t.deepEqual(second, JSON.parse(text))
  const held = cache.get(null, 'a')
  t.not(held.copy, null, 'read twice at the same version: kept')
  t.not(held.value, second, 'and what the caller got is a copy')
  t.is(cache.bytes, one)
  second.list[1].deep = false
  t.deepEqual(held.copy(held.value), JSON.parse(text), 'a caller changing what it got changes nothing held')

  t.deepEqual(cache.take(null, 'a', text, later, held), JSON.parse(text), 'a new version read')
  t.like(cache.get(null, 'a'), { value: null, copy: null, stateLow: 12 })
  t.is(cache.bytes, noted, 'is noted, and the value let go')
  t.deepEqual(cache.take(null, 'a', text, later, cache.get(null, 'a')), JSON.parse(text))
  t.not(cache.get(null, 'a').copy, null, 'read again at it: kept')

  t.is(cache.get('ns', 'a'), undefined, 'namespaces are apart')
  twice('ns', 'a')
  twice('n', 'sa') // the pair (n, sa) is not (ns, a)
  t.is(cache.size, 3)
  t.is(cache.bytes, max)
  twice(null, 'b')
  t.is(cache.size, 3, 'bounded')
  t.is(cache.get(null, 'a'), undefined, 'the longest held went first')
  const huge = `[${'{"x":1},'.repeat(100)}{}]`
  cache.take(null, 'h', huge, version, undefined)
  t.is(cache.take(null, 'h', huge, version, cache.get(null, 'h')).length, 101)
  t.is(cache.get(null, 'h').copy, null, 'too large a shape is parsed each time')
  cache.delete(null, 'h')
  cache.delete('ns', 'a')
  t.is(cache.get('ns', 'a'), undefined)
  t.is(cache.get(null, 'b'), undefined, 'b made room for h: the default namespace\'s go first')
  t.is(cache.bytes, one + 1, 'what is left: (n, sa)')
})

test('shapes are bounded: too deep or too wide a value, or one of a new shape once the table is full, gets no copier', (t) => {
  let deep = 1
  for (let i = 0; i <= MAX_DEPTH + 1; i++) deep = { d: deep }
  t.is(copierOf(deep), null, 'too deep')
  const wide = Object.fromEntries(Array.from({ length: MAX_NODES + 1 }, (_, i) => [`k${i}`, i]))
  t.is(copierOf(wide), null, 'too many values')
  t.truthy(copierOf({ list: Array.from({ length: 1000 }, (_, i) => i) }), 'a long list of plain values is one node')
  const copiers = new Copiers()
  const kept = []
  let i = 0
  for (; i < MAX_SHAPES * 2; i++) {
    const value = { [`shape${i}`]: 1 }
    const copy = copiers.of(value)
    if (copy === null) break
    kept.push([value, copy])
  }
  t.is(i, MAX_SHAPES, 'the table fills')
  t.is(copiers.size, MAX_SHAPES)
  t.is(copiers.of({ another: { new: 'shape' } }), null)
  for (const [value, copy] of kept) t.is(copiers.of({ ...value }), copy, 'the shapes there serve every value of theirs')
})
