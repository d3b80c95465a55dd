'use strict'

// Misuse that must get a clear message (issue 12): nested option typos warn,
// strings are shown as strings, a lease is called a lease, an invalid glob
// is an error rather than an empty answer. In this process, over a fake
// backend (./fake-backend.js) and the config normalizer.

const test = require('ava')

const { normalizeConfig } = require('../../lib/config')
const { createController } = require('../../lib/create')
const { checkGlob } = require('../../lib/glob')
const { FakeBackend } = require('./fake-backend')

const sm = () => createController(new FakeBackend(), {})

function warningsOf(fn) {
  const seen = []
  const listener = (warning) => seen.push(warning.message)
  process.on('warning', listener)
  const original = process.emitWarning
  process.emitWarning = (message) => seen.push(typeof message === 'string' ? message : message.message)
  try {
    fn()
  } finally {
    process.emitWarning = original
    process.off('warning', listener)
  }
  return seen
}

test('an unknown nested option warns like a top-level one, naming the option it differs from in case', (t) => {
  t.deepEqual(
    warningsOf(() => normalizeConfig({ cache: { type: 'LRU', max: 10, maxbytes: 100 }, timeot: 5 })),
    ['sharedmemory: init() ignores unknown option(s) timeot', 'sharedmemory: init() ignores unknown option(s) cache.maxbytes (did you mean cache.maxBytes?)'],
  )
  t.deepEqual(warningsOf(() => normalizeConfig({ cache: { type: 'expire', expire: 10, time: 5 } })), [])
})

test("messages show a string as a string: '100', not 100", (t) => {
  t.throws(() => normalizeConfig({ timeout: '100' }), { code: 'ERR_INVALID_CONFIG', message: "sharedmemory: timeout must be a positive number, got '100'" })
  t.throws(() => normalizeConfig({ cache: { type: 'LRU', max: '100' } }), { message: /cache\.max must be a positive integer, got '100'$/ })
  t.throws(() => normalizeConfig({ sharedReads: 'yes' }), { message: /got 'yes'$/ })
  const controller = sm()
  t.throws(() => controller.setSync('k', 1, { ttl: '100' }), { code: 'ERR_INVALID_ARGUMENT', message: /got '100'$/ })
  t.throws(() => controller.setSync('k', 1, { ttl: -1 }), { message: /got -1$/ })
  t.throws(() => controller.incrSync('k', '5'), { message: /an amount must be a finite number, got '5'$/ })
})

test('lock() with a bad lease speaks of a lease', async (t) => {
  const controller = sm()
  await t.throwsAsync(controller.lock('job', { lease: 0 }), { code: 'ERR_INVALID_ARGUMENT', message: 'sharedmemory: a lock lease is a positive number of milliseconds, got 0' })
  await t.throwsAsync(controller.lock('job', { lease: '30s' }), { message: /lease .* got '30s'$/ })
})

test('keys() and watch() refuse an invalid glob with a typed error', async (t) => {
  const controller = sm()
  await t.throwsAsync(controller.keys('['), { code: 'ERR_INVALID_ARGUMENT', message: /invalid glob "\[": the \[ at 0 is never closed/ })
  t.throws(() => controller.keysSync('user:[0-9'), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => controller.keysSync('a\\'), { code: 'ERR_INVALID_ARGUMENT', message: /lone \\/ })
  t.throws(() => controller.watch('[', () => {}), { code: 'ERR_INVALID_ARGUMENT', message: /watch\(\) was given an invalid glob/ })
  for (const good of ['*', 'user:*', 'h[ae]llo', 'h[^e]llo', '[a-z]?', '\\[literal', '[\\]]', '[]x', '']) t.is(checkGlob(good, 'keys'), good, good)
})

test('sharedReadCache takes a whole number of bytes, 0 for none', (t) => {
  for (const bad of [-1, 1.5, '1', Infinity, null, true]) {
    t.throws(() => normalizeConfig({ sharedReadCache: bad }), { code: 'ERR_INVALID_CONFIG', message: /sharedReadCache must be a whole number of bytes/ })
  }
  t.is(normalizeConfig({ sharedReadCache: 0 }).sharedReadCache, 0)
  t.is(normalizeConfig({}).sharedReadCache, 4 * 1024 * 1024)
})
