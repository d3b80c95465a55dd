'use strict'

// The controller over a fake backend (./fake-backend.js), in this process:
// which Request objects each call builds, callbacks, errors, sync calls.

const test = require('ava')

const { createController } = require('../../lib/create')
const { OPS, Request } = require('../../lib/ops')
const { MARKER } = require('../../lib/serialization')
const { FakeBackend, turn } = require('./fake-backend')

function setup(options, backendOptions) {
  const backend = new FakeBackend(backendOptions)
  return { backend, sm: createController(backend, options) }
}

/**
 * The fields of a request as a plain object, readOnly included, for
 * deepEqual; options without the fields that mean "absent" (undefined, false).
 */
function shape(request) {
  if (!(request instanceof Request)) throw new Error('not a Request')
  const options = {}
  for (const name in request.options) if (request.options[name] !== undefined && request.options[name] !== false) options[name] = request.options[name]
  const out = { op: request.op, ns: request.ns, key: request.key, arg: request.arg, readOnly: request.readOnly, options }
  if (request.wait !== undefined) out.wait = request.wait
  return out
}

const calls = [
  ['get', (sm) => sm.get('k'), { op: 'get', ns: null, key: '"k"', arg: '0', readOnly: true }],
  ['get of a number key', (sm) => sm.get(5), { op: 'get', ns: null, key: '"5"', arg: '0', readOnly: true }],
  ['set', (sm) => sm.set('k', { a: 1 }), { op: 'set', ns: null, key: '"k"', arg: '{"a":1}', readOnly: false, options: {} }],
  [
    'set with options',
    (sm) => sm.set('k', 1, { ttl: 50, nx: true }),
    { op: 'set', ns: null, key: '"k"', arg: '1', readOnly: false, options: { ttl: 50, nx: true } },
  ],
  ['set of undefined', (sm) => sm.set('k', undefined), { op: 'del', ns: null, key: '"k"', arg: '0', readOnly: false }],
  ['remove', (sm) => sm.remove('k'), { op: 'del', ns: null, key: '"k"', arg: '0', readOnly: false }],
  ['delete', (sm) => sm.delete('k'), { op: 'del', ns: null, key: '"k"', arg: '0', readOnly: false }],
  ['has', (sm) => sm.has('k'), { op: 'has', ns: null, key: '"k"', arg: '0', readOnly: true }],
  ['plusOne', (sm) => sm.plusOne('n'), { op: 'incr', ns: null, key: '"n"', arg: '1', readOnly: false }],
  ['incr', (sm) => sm.incr('n', 5), { op: 'incr', ns: null, key: '"n"', arg: '5', readOnly: false, options: {} }],
  ['decr', (sm) => sm.decr('n', 2), { op: 'incr', ns: null, key: '"n"', arg: '-2', readOnly: false, options: {} }],
  // The options object in the amount's place: the TTL is kept, the amount is 1 (it was dropped).
  ['incr with a ttl only', (sm) => sm.incr('n', { ttl: 500 }), { op: 'incr', ns: null, key: '"n"', arg: '1', readOnly: false, options: { ttl: 500 } }],
  ['decr with a ttl only', (sm) => sm.decr('n', { ttl: 500 }), { op: 'incr', ns: null, key: '"n"', arg: '-1', readOnly: false, options: { ttl: 500 } }],
  ['getSet', (sm) => sm.getSet('k', 'v'), { op: 'getset', ns: null, key: '"k"', arg: '"v"', readOnly: false }],
  ['compareAndSet', (sm) => sm.compareAndSet('k', 1, 2), { op: 'cas', ns: null, key: '"k"', arg: '[2,1]', readOnly: false }],
  ['expire', (sm) => sm.expire('k', 100), { op: 'expire', ns: null, key: '"k"', arg: '100', readOnly: false }],
  ['ttl', (sm) => sm.ttl('k'), { op: 'ttl', ns: null, key: '"k"', arg: '0', readOnly: true }],
  ['persist', (sm) => sm.persist('k'), { op: 'persist', ns: null, key: '"k"', arg: '0', readOnly: false }],
  ['mget', (sm) => sm.mget(['a', 1]), { op: 'mget', ns: null, key: null, arg: '["a","1"]', readOnly: true }],
  ['keys', (sm) => sm.keys('u:*'), { op: 'keys', ns: null, key: null, arg: '"u:*"', readOnly: true }],
  ['keys of all', (sm) => sm.keys(), { op: 'keys', ns: null, key: null, arg: 'null', readOnly: true }],
  ['size', (sm) => sm.size(), { op: 'size', ns: null, key: null, arg: '0', readOnly: true }],
  ['clear', (sm) => sm.clear(), { op: 'clear', ns: null, key: null, arg: '0', readOnly: false }],
  ['stats', (sm) => sm.stats(), { op: 'stats', ns: null, key: null, arg: '0', readOnly: true }],
  ['get in a namespace', (sm) => sm.ns('s').get('k'), { op: 'get', ns: 's', key: '"k"', arg: '0', readOnly: true }],
  [
    'lock',
    (sm) => sm.lock('L', { lease: 100, wait: 20 }),
    { op: 'lock', ns: null, key: '"L"', arg: '{"lease":100,"wait":20}', readOnly: false, wait: 20 },
  ],
]

for (const [title, call, expected] of calls) {
  test(`${title} builds one request: ${expected.op}`, (t) => {
    const { backend, sm } = setup()
    call(sm)
    t.is(backend.requests.length, 1)
    t.deepEqual(shape(backend.requests[0]), { options: {}, ...expected })
    t.true(expected.op in OPS)
  })
}

test('mset(object, {ttl}) builds one mset and a del per undefined property; they reach the backend in one turn', async (t) => {
  const { backend, sm } = setup()
  const done = sm.mset({ a: 1, b: undefined, c: 'x' }, { ttl: 10 })
  t.deepEqual(backend.requests.map(shape), [
    { op: 'mset', ns: null, key: null, arg: '[["a",1],["c","x"]]', readOnly: false, options: { ttl: 10 } },
    { op: 'del', ns: null, key: '"b"', arg: '0', readOnly: false, options: {} },
  ])
  t.is(await done, 'OK')
})

test('setSync(object) is one sync trip with every request of the call', (t) => {
  const { backend, sm } = setup()
  t.is(sm.setSync({ a: 1, b: undefined }), 'OK')
  t.is(backend.syncTrips.length, 1)
  t.deepEqual(backend.syncTrips[0].map((r) => r.op), ['mset', 'del'])
  t.is(backend.requests.length, 0)
  t.is(sm.setSync({}), 'OK', 'an empty object needs no trip')
  t.is(backend.syncTrips.length, 1)
})

test('sync calls answer the shaped value; async ones resolve with it', async (t) => {
  const { sm } = setup()
  t.is(sm.setSync('k', { v: 1 }), 'OK')
  t.deepEqual(sm.getSync('k'), { v: 1 })
  t.deepEqual(await sm.get('k'), { v: 1 })
  t.is(await sm.set('other', 2, { nx: true }).then(String), 'undefined', 'nx answers what the store says (the fake says nothing)')
  t.deepEqual(await sm.mget(['k', 'missing']), [{ v: 1 }, undefined])
  t.is(sm.incrSync('n', 3), 3)
  t.is(await sm.plusOne('n'), 4)
})

test('value-style callbacks get the value, asynchronously; errors go to the error event', async (t) => {
  const { sm } = setup()
  await sm.set('k', 7)
  let seen = 'not yet'
  const done = new Promise((resolve) => sm.get('k', (value) => resolve((seen = value))))
  t.is(seen, 'not yet')
  t.is(await done, 7)
  const failed = new Promise((resolve) => sm.once('error', resolve))
  sm.getSet('k', () => {}, () => t.fail('not called on failure'))
  t.is((await failed).code, 'ERR_INVALID_VALUE')
})

test.serial('without an error listener, a value-style callback failure is a warning, once per code', async (t) => {
  const { sm } = setup()
  const warnings = []
  const emitWarning = process.emitWarning
  process.emitWarning = (message, options) => warnings.push([options.type, options.code]) // caught, not printed
  try {
    sm.getSet('k', () => {}, () => {})
    sm.getSet('k', () => {}, () => {})
    await turn()
    await turn()
  } finally {
    process.emitWarning = emitWarning
  }
  t.deepEqual(warnings, [['SharedMemoryWarning', 'ERR_INVALID_VALUE']])
})

test('error-first callbacks get (null, value) and (err)', async (t) => {
  const { sm } = setup({ callbackStyle: 'error-first' })
  await sm.set('k', 1)
  t.deepEqual(await new Promise((resolve) => sm.get('k', (...args) => resolve(args))), [null, 1])
  const [err] = await new Promise((resolve) => sm.set('k', Symbol('no'), (...args) => resolve(args)))
  t.is(err.code, 'ERR_INVALID_VALUE')
})

test('bad arguments fail before reaching the backend: rejections for async calls, throws for sync ones', async (t) => {
  const { backend, sm } = setup({}, { maxValueSize: 10 })
  await t.throwsAsync(sm.get({}), { code: 'ERR_INVALID_KEY', instanceOf: TypeError })
  await t.throwsAsync(sm.set('k', 10n), { code: 'ERR_INVALID_VALUE' })
  await t.throwsAsync(sm.set('k', 'x'.repeat(20)), { code: 'ERR_VALUE_TOO_LARGE' })
  await t.throwsAsync(sm.set('k', 1, { nx: true, xx: true }), { code: 'ERR_INVALID_ARGUMENT' })
  await t.throwsAsync(sm.set('k', 1, { ttl: -1 }), { code: 'ERR_INVALID_ARGUMENT' })
  await t.throwsAsync(sm.mget('a'), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => sm.setSync('k', () => {}), { code: 'ERR_INVALID_VALUE' })
  t.throws(() => sm.expireSync('k', 0), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => sm.ns(''), { code: 'ERR_INVALID_ARGUMENT' })
  t.is(backend.requests.length + backend.syncTrips.length, 0)
  // A set(object) with one value refused sends nothing at all.
  await t.throwsAsync(sm.set({ a: 1, b: 'y'.repeat(20) }), { code: 'ERR_VALUE_TOO_LARGE' })
  t.is(backend.requests.length, 0)
})

test("a backend's failure reaches the caller as it is", async (t) => {
  const { backend, sm } = setup()
  const { SharedMemoryError } = require('../../lib/errors')
  backend.answers.incr = () => {
    throw new SharedMemoryError('ERR_NOT_A_NUMBER', 'sharedmemory: not a number')
  }
  await t.throwsAsync(sm.plusOne('k'), { code: 'ERR_NOT_A_NUMBER' })
  t.throws(() => sm.plusOneSync('k'), { code: 'ERR_NOT_A_NUMBER' })
  sm.plusOne('ignored') // an ignored failure is no unhandled rejection
  await turn()
})

test("values are encoded with the backend's serialization, and decoded back", async (t) => {
  const { backend, sm } = setup({}, { serialization: 'advanced' })
  const value = { when: new Date(0), bytes: Buffer.from('hi'), big: 10n }
  await sm.set('k', value)
  const stored = JSON.parse(backend.requests[0].arg)
  t.true(stored.startsWith(MARKER))
  t.deepEqual(await sm.get('k'), value)
  t.deepEqual(sm.getSync('k'), value)
  await sm.set('n', 5)
  t.is(backend.requests[2].arg, '5', 'finite numbers stay numbers, for incr')
})

test('watch: the backend gets the pattern and namespace; set events are decoded; stopping unwatches', async (t) => {
  const { backend, sm } = setup({}, { serialization: 'advanced' })
  const events = []
  const stop = sm.ns('s').watch('user:*', (event) => events.push(event))
  await stop.ready
  const [[id, watch]] = backend.watches
  t.is(watch.pattern, 'user:*')
  t.is(watch.ns, 's')
  const { encodeValue } = require('../../lib/codec')
  watch.listener({ key: 'user:1', kind: 'set', value: JSON.parse(encodeValue(new Map([[1, 2]]), undefined, 'advanced')) })
  watch.listener({ key: 'user:1', kind: 'delete', value: undefined })
  t.deepEqual(events, [
    { key: 'user:1', kind: 'set', value: new Map([[1, 2]]) },
    { key: 'user:1', kind: 'delete', value: undefined },
  ])
  t.true(await stop())
  t.false(backend.watches.has(id))
})

test('lock() answers a Lock whose release and extend are requests on the same key', async (t) => {
  const { backend, sm } = setup()
  backend.answers.lock = () => 42
  backend.answers.unlock = () => true
  backend.answers.extend = () => true
  const lock = await sm.lock('L')
  t.is(lock.token, 42)
  t.is(backend.requests[0].wait, 10000, 'the default wait')
  t.true(await lock.extend(500))
  t.true(await lock.release())
  t.deepEqual(
    backend.requests.slice(1).map((r) => [r.op, r.key, r.arg]),
    [
      ['extend', '"L"', '[42,500]'],
      ['unlock', '"L"', '42'],
    ],
  )
  await t.throwsAsync(lock.extend(-5), { code: 'ERR_INVALID_ARGUMENT' })
})

test('the controller shows the backend: transport, ready(), the watch overflow report', async (t) => {
  const { backend, sm } = setup()
  t.is(sm.transport, 'fake')
  t.is(sm.role, 'master')
  await sm.ready()
  const reported = new Promise((resolve) => sm.once('error', resolve))
  backend.onWatchOverflow(3)
  t.is((await reported).code, 'ERR_WATCH_OVERFLOW')
  await backend.close()
  await t.throwsAsync(sm.ready(), { code: 'ERR_CLOSED' })
})

test('createController refuses an object that is not a backend, naming what it lacks', (t) => {
  const err = t.throws(() => createController({ transport: 'x', capabilities: {}, request() {} }), { instanceOf: TypeError })
  t.regex(err.message, /ready, requestSync, watch, unwatch, close/)
  t.throws(() => createController(null), { instanceOf: TypeError })
})
