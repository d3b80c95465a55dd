'use strict'

// The direct backend over a real store (the Rust addon), in this process,
// as the hosting process uses it: ordering, asynchronous replies, sync
// calls, one trip per call, locks and watches through the store's pushes.

const test = require('ava')

const { DirectBackend } = require('../../lib/backends/direct')
const { normalizeConfig } = require('../../lib/config')
const { createController } = require('../../lib/create')
const { HostedStore } = require('../../lib/hosted-store')
const { turn, keepAlive } = require('./fake-backend')

/** A fresh store and a controller over it; `batches` records every batch the store applies. */
function setup(config = {}) {
  const normalized = normalizeConfig(config)
  const store = new HostedStore(normalized)
  const batches = []
  const apply = store.applyBatch.bind(store)
  store.applyBatch = (batch, owner) => {
    batches.push(batch)
    return apply(batch, owner)
  }
  const backend = new DirectBackend(store, normalized)
  return { store, backend, batches, sm: createController(backend, { role: 'master' }) }
}

test('capabilities: the hosting process can do everything, sync calls included', async (t) => {
  const { backend, sm } = setup()
  t.deepEqual(backend.capabilities, {
    sync: true,
    atomicBatch: true,
    lockReleaseOnExit: true,
    watchValues: true,
    lruByCount: true,
  })
  t.is(sm.transport, 'local')
  await sm.ready()
  t.is(sm.setSync('a', 1), 'OK', 'sync calls work from the start')
})

test("one turn's calls are one batch, applied after the turn; replies come asynchronously", async (t) => {
  const { batches, sm } = setup()
  let answered = false
  const got = sm.get('a').then((value) => {
    answered = true
    return value
  })
  sm.set('a', 1)
  t.is(batches.length, 0, 'nothing is applied while the turn runs')
  t.false(answered)
  t.is(await got, undefined, 'the get was made before the set')
  t.is(batches.length, 1)
  t.is(await sm.get('a'), 1)
})

test('a sync call applies what is queued first, so order holds across sync and async calls', async (t) => {
  const { batches, sm } = setup()
  const set = sm.set('k', 'async')
  t.is(sm.getSync('k'), 'async')
  t.is(batches.length, 2)
  t.is(await set, 'OK')
})

test('setSync(object) is one trip into the store; a refused value leaves everything as it was', (t) => {
  const { batches, sm } = setup({ maxValueSize: 64 })
  sm.setSync('gone', 1)
  batches.length = 0
  t.is(sm.setSync({ a: 1, b: 2, gone: undefined }), 'OK')
  t.is(batches.length, 1)
  t.deepEqual(sm.mgetSync(['a', 'b', 'gone']), [1, 2, undefined])
  t.throws(() => sm.setSync({ a: 3, c: 'x'.repeat(100) }), { code: 'ERR_VALUE_TOO_LARGE' })
  t.is(sm.getSync('a'), 1)
})

test("the store's errors reach the caller", async (t) => {
  const { sm } = setup()
  await sm.set('s', 'text')
  await t.throwsAsync(sm.plusOne('s'), { code: 'ERR_NOT_A_NUMBER' })
  t.throws(() => sm.plusOneSync('s'), { code: 'ERR_NOT_A_NUMBER' })
  t.is(await sm.get('s'), 'text')
})

test('a lock that has to wait is granted by a push when its holder releases it', async (t) => {
  keepAlive(t) // the store's pushes keep no process alive
  const { sm } = setup()
  const first = await sm.lock('L')
  const second = sm.lock('L', { wait: 5000 })
  let granted = false
  second.then(() => (granted = true))
  await turn()
  t.false(granted)
  t.true(await first.release())
  const lock = await second
  t.true(lock.token > first.token)
  t.true(await lock.release())
})

test('a watch sees the changes the store applies, through its pushes', async (t) => {
  keepAlive(t) // the store's pushes keep no process alive
  const { sm } = setup()
  const events = []
  const seen = new Promise((resolve) => {
    const stop = sm.ns('n').watch('k*', (event) => {
      events.push(event)
      if (events.length === 2) resolve(stop)
    })
    stop.ready.then(() => {
      sm.ns('n').set('k1', { v: 1 })
      sm.set('k2', 'other namespace')
      sm.ns('n').delete('k1')
    })
  })
  const stop = await seen
  t.deepEqual(events, [
    { key: 'k1', kind: 'set', value: { v: 1 } },
    { key: 'k1', kind: 'delete', value: undefined },
  ])
  t.true(await stop())
})

test('namespaces, TTLs and stats go through unchanged', async (t) => {
  const { sm } = setup()
  await sm.ns('a').set('k', 1, { ttl: 60000 })
  await sm.set('k', 2)
  t.is(await sm.ns('a').get('k'), 1)
  t.is(await sm.get('k'), 2)
  t.true((await sm.ns('a').ttl('k')) > 0)
  t.is(await sm.ttl('k'), -1)
  t.is((await sm.ns('a').stats()).entries, 1)
  t.deepEqual(await sm.ns('a').keys(), ['k'])
})

test('close(): later calls fail; the store itself stays', async (t) => {
  const { store, backend, sm } = setup()
  await sm.set('k', 1)
  await backend.close()
  await t.throwsAsync(sm.get('k'), { code: 'ERR_CLOSED' })
  t.is(store.applyBatch('[[1,"get","k",0]]'), '[[1,1,1]]')
})
