'use strict'

// The batching backend over a fake transport (./fake-backend.js), under a
// real controller, in this process: the batch text it sends, how replies
// and pushes are matched, deadlines, down(), the sync path, capabilities.

const test = require('ava')

const { BatchingBackend } = require('../../lib/backends/batching')
const { createController } = require('../../lib/create')
const { join } = require('../../lib/handshake')
const { fakeTransport, turn, keepAlive } = require('./fake-backend')

const LIMITS = { maxValueSize: 1024, serialization: 'json' }

/** A controller over a BatchingBackend over a fake transport; `ready` false: the host has not answered yet. */
function setup({ ready = true, timeout = 5000, connectTimeout = 5000, sync = true, callbackStyle } = {}) {
  const transport = fakeTransport({ sync })
  const backend = new BatchingBackend(transport, { timeout, connectTimeout, ready: ready ? LIMITS : null })
  return { transport, backend, sm: createController(backend, { role: 'worker', callbackStyle }) }
}

test('every request of one turn travels in one batch, in order, in the wire format of src/protocol.rs', async (t) => {
  const { transport, sm } = setup()
  sm.set('a', 1)
  sm.get('a')
  sm.ns('n').set('b', { x: [1] }, { ttl: 100 })
  sm.mget(['a', 'b'])
  sm.incr('c', 2)
  t.deepEqual(transport.sent, [], 'nothing leaves before the turn ends')
  await turn()
  t.deepEqual(transport.sent, [
    '[[1,"set","a",1],[2,"get","a",0],[3,"set","b",{"x":[1]},{"ns":"n","ttl":100}],[4,"mget",null,["a","b"]],[5,"incr","c",2]]',
  ])
  sm.get('a')
  await turn()
  t.deepEqual(transport.sent[1], '[[6,"get","a",0]]', 'the next turn is the next batch')
})

test('replies are matched by id, whatever their order: done, done with a value, failed', async (t) => {
  const { transport, sm } = setup()
  const set = sm.set('a', 1)
  const get = sm.get('a')
  const incr = sm.plusOne('a')
  await turn()
  transport.reply([
    [3, 2, 'ERR_NOT_A_NUMBER', 'the value is not a number'],
    [2, 1, { deep: true }],
    [1, 0],
    [99, 1, 'not ours'],
  ])
  t.is(await set, 'OK')
  t.deepEqual(await get, { deep: true })
  const err = await t.throwsAsync(incr, { code: 'ERR_NOT_A_NUMBER' })
  t.is(err.name, 'SharedMemoryError')
  t.is(err.message, 'sharedmemory: the value is not a number')
  transport.reply('garbage') // not JSON: ignored
  transport.reply('{"not":"a batch"}')
})

test('a reply pushed later (!) answers a lock that had to wait', async (t) => {
  const { transport, sm } = setup()
  const lock = sm.lock('L', { wait: 1000 })
  await turn()
  t.deepEqual(transport.sent, ['[[1,"lock","L",{"lease":30000,"wait":1000}]]'])
  transport.reply([]) // its batch's reply lacks it
  transport.reply(`![[1,1,7]]`)
  t.is((await lock).token, 7)
  lock.then((held) => held.release())
  await turn()
  t.is(transport.sent[1], '[[2,"unlock","L",7]]')
})

test('watch events (~) reach their listener; an overflow notice reaches the error event', async (t) => {
  const { transport, sm } = setup()
  const events = []
  const stop = sm.ns('n').watch('k*', (event) => events.push(event))
  await turn()
  t.deepEqual(transport.sent, ['[[1,"watch","k*",1,{"ns":"n"}]]'])
  transport.reply([[1, 0]])
  await stop.ready
  transport.reply('~[[1,"set","k1",{"v":1}],[1,"delete","k2"],[9,"set","x",1]]')
  t.deepEqual(events, [
    { key: 'k1', kind: 'set', value: { v: 1 } },
    { key: 'k2', kind: 'delete', value: undefined },
  ])
  const overflow = new Promise((resolve) => sm.once('error', resolve))
  transport.reply('~{"lost":4}')
  t.regex((await overflow).message, /4 batches/)
  const stopped = stop()
  await turn()
  t.is(transport.sent[1], '[[2,"unwatch",null,1,{"ns":"n"}]]')
  transport.reply([[2, 1, true]])
  t.true(await stopped)
  transport.reply('~[[1,"set","k1",2]]')
  t.is(events.length, 2, 'no event after unwatch')
})

test('a request without a reply fails with ERR_TIMEOUT at its deadline; a late reply is ignored', async (t) => {
  keepAlive(t) // the backend's timers are unref'd: they keep no process alive, this test's included
  const { transport, sm } = setup({ timeout: 40 })
  const started = performance.now()
  const get = sm.get('a')
  await turn()
  await t.throwsAsync(get, { code: 'ERR_TIMEOUT', message: /40 ms/ })
  t.true(performance.now() - started >= 39)
  transport.reply([[1, 1, 'late']])
  // A lock's deadline is its wait on top of the timeout. The wait is long
  // enough that a loaded machine firing the 40 ms timer late does not reach it
  // too (with 60 ms, both expired in one pass of the timer now and then).
  const lock = sm.lock('L', { wait: 3000 })
  const early = sm.get('b')
  await t.throwsAsync(early, { code: 'ERR_TIMEOUT' })
  let lockFailed = false
  lock.catch(() => (lockFailed = true))
  await turn()
  t.false(lockFailed, 'the lock still waits when a plain request times out')
  await t.throwsAsync(lock, { code: 'ERR_TIMEOUT', message: /wait/ })
})

test('before the host answers, requests wait; they go out in one batch once it serves', async (t) => {
  const { transport, backend, sm } = setup({ ready: false })
  t.is(backend.state, 'connecting')
  const set = sm.set('a', 1)
  const get = sm.get('a')
  const ready = sm.ready()
  await turn()
  t.deepEqual(transport.sent, [])
  t.throws(() => sm.getSync('a'), { code: 'ERR_NOT_READY', message: /await controller.ready\(\)/ })
  join(backend, { ...LIMITS }, { socket: false, timeout: 100 })
  await ready
  await turn()
  t.deepEqual(transport.sent, ['[[1,"set","a",1],[2,"get","a",0]]'])
  transport.reply([
    [1, 0],
    [2, 1, 1],
  ])
  t.is(await set, 'OK')
  t.is(await get, 1)
})

test('no host within connectTimeout: waiting calls and ready() fail with ERR_NO_HOST, later ones at once (asking again)', async (t) => {
  keepAlive(t) // the backend's timers are unref'd: they keep no process alive, this test's included
  const { transport, backend, sm } = setup({ ready: false, connectTimeout: 30, timeout: 5000 })
  const get = sm.get('a')
  const ready = sm.ready()
  await t.throwsAsync(get, { code: 'ERR_NO_HOST' })
  await t.throwsAsync(ready, { code: 'ERR_NO_HOST' })
  t.is(backend.state, 'unreachable')
  await t.throwsAsync(sm.get('b'), { code: 'ERR_NO_HOST' })
  t.is(transport.hellos, 1)
  t.throws(() => sm.getSync('a'), { code: 'ERR_NO_HOST', message: /no process is serving/ }, 'sync calls say what async ones say')
  t.is(sm.transport, 'connecting', 'not the transport it would use: it has none yet')
  // A late host still serves; what failed is not sent.
  join(backend, LIMITS, { socket: false, timeout: 100 })
  sm.get('c')
  await turn()
  t.deepEqual(transport.sent, ['[[2,"get","c",0]]'], 'a call refused at once took no id')
})

test('a request that timed out while the host was missing is not applied once it is found', async (t) => {
  keepAlive(t) // the backend's timers are unref'd: they keep no process alive, this test's included
  const { transport, backend, sm } = setup({ ready: false, timeout: 20, connectTimeout: 5000 })
  await t.throwsAsync(sm.set('a', 1), { code: 'ERR_NO_HOST' })
  // The host answers a batch as soon as it is sent. The 20 ms of the request
  // kept below start when it is called; from there to its reply nothing
  // leaves this turn of the event loop (join, the flush on nextTick, the send,
  // the reply on a microtask), so no timer can fail it, however slow the
  // machine. (Waiting a turn before replying made it fail whenever 20 ms
  // passed meanwhile, with ERR_TIMEOUT.)
  const send = transport.send
  transport.send = (batch) => {
    const open = send(batch)
    queueMicrotask(() => transport.reply([[2, 0]]))
    return open
  }
  const kept = sm.get('a')
  join(backend, LIMITS, { socket: false, timeout: 100 })
  t.is(await kept, undefined)
  t.deepEqual(transport.sent, ['[[2,"get","a",0]]'], 'the request that timed out was not sent')
})

test('down(): what is pending fails with its code, later calls fail at once', async (t) => {
  const { backend, sm } = setup()
  const get = sm.get('a')
  await turn()
  backend.down('ERR_HOST_EXITED', 'the host exited')
  await t.throwsAsync(get, { code: 'ERR_HOST_EXITED', message: 'sharedmemory: the host exited' })
  await t.throwsAsync(sm.set('b', 1), { code: 'ERR_NO_HOST' })
  await t.throwsAsync(sm.ready(), { code: 'ERR_NO_HOST' })
  sm.get('ignored') // an ignored failure is no unhandled rejection
  await turn()
})

test('calls failing at once, awaited in a loop, still let the event loop turn (so a process hears its master go)', async (t) => {
  const { backend, sm } = setup()
  backend.down('ERR_HOST_EXITED', 'the host exited')
  let turned = false
  setImmediate(() => (turned = true))
  let failures = 0
  while (!turned && failures < 100000) {
    try {
      await sm.get('a')
    } catch {
      failures++
    }
  }
  t.true(turned, 'the event loop never turned while the calls failed')
  t.true(failures >= 64, `the first ones still fail at once (${failures})`)
})

test('a closed channel (send answers false) is the host gone', async (t) => {
  const { transport, sm } = setup()
  transport.open = false
  await t.throwsAsync(sm.get('a'), { code: 'ERR_HOST_EXITED' })
})

test('a host with another serialization is refused: pending and later calls fail, nothing is sent', async (t) => {
  const { transport, backend, sm } = setup({ ready: false })
  const get = sm.get('a')
  let connected = false
  join(backend, { maxValueSize: 10, serialization: 'advanced', socket: { name: 'n', token: 't' } }, { socket: true, timeout: 100 }, () => {
    connected = true
  })
  t.false(connected, 'not even connected to')
  await t.throwsAsync(get, { code: 'ERR_SERIALIZATION_MISMATCH' })
  await t.throwsAsync(sm.get('b'), { code: 'ERR_SERIALIZATION_MISMATCH' })
  await t.throwsAsync(sm.ready(), { code: 'ERR_SERIALIZATION_MISMATCH' })
  t.throws(() => sm.getSync('a'), { code: 'ERR_SERIALIZATION_MISMATCH' })
  await turn()
  t.deepEqual(transport.sent, [])
})

test('sync calls: queued async requests go first; one call is one trip; failures are thrown', async (t) => {
  const { transport, sm } = setup()
  const set = sm.set('a', 1)
  transport.syncReply = (batch) => {
    const requests = JSON.parse(batch)
    return JSON.stringify(requests.map(([id, op]) => (op === 'get' ? [id, 1, 'v'] : [id, 0])))
  }
  t.is(sm.getSync('a'), 'v')
  t.deepEqual(transport.sent, ['[[1,"set","a",1]]'], 'the queued set left first')
  t.deepEqual(transport.syncSent, ['[[2,"get","a",0]]'])
  t.is(sm.setSync({ x: 1, y: undefined }), 'OK')
  t.deepEqual(transport.syncSent[1], '[[3,"mset",null,[["x",1]]],[4,"del","y",0]]', 'set(object) is one trip')
  transport.syncReply = (batch) => JSON.stringify(JSON.parse(batch).map(([id]) => [id, 2, 'ERR_KEY_TOO_LARGE', 'too long']))
  t.throws(() => sm.hasSync('k'), { code: 'ERR_KEY_TOO_LARGE', message: 'sharedmemory: too long' })
  transport.reply([[1, 0]])
  t.is(await set, 'OK')
})

test('capabilities: sync only over a transport that can block; the handshake switches to a socket', async (t) => {
  const { transport, backend, sm } = setup({ ready: false, sync: false })
  t.deepEqual(backend.capabilities, {
    sync: false,
    atomicBatch: true,
    lockReleaseOnExit: true,
    watchValues: true,
    lruByCount: true,
  })
  t.true(Object.isFrozen(backend.capabilities))
  t.is(sm.transport, 'connecting', 'not ipc: it may yet switch to the socket')
  const socket = fakeTransport({ sync: true, name: 'socket' })
  const announced = { ...LIMITS, socket: { name: 'n', token: 't' } }
  join(backend, announced, { socket: true, timeout: 100 }, (offered, options) => {
    t.deepEqual(offered, announced.socket)
    t.is(options.timeout, 100)
    return socket
  })
  t.is(sm.transport, 'socket')
  t.true(backend.capabilities.sync)
  t.is(socket.backend, backend)
  sm.get('a')
  await turn()
  t.deepEqual(transport.sent, [])
  t.deepEqual(socket.sent, ['[[1,"get","a",0]]'])
})

test('without the sync capability, sync calls fail with ERR_SYNC_UNAVAILABLE naming the transport', (t) => {
  const { sm } = setup({ sync: false })
  t.throws(() => sm.getSync('a'), { code: 'ERR_SYNC_UNAVAILABLE', message: /uses ipc/ })
})

test('close(): pending and later calls fail', async (t) => {
  const { backend, sm } = setup()
  const get = sm.get('a')
  await backend.close()
  await t.throwsAsync(get, { code: 'ERR_CLOSED' })
  await t.throwsAsync(sm.get('b'), { code: 'ERR_CLOSED' })
  t.throws(() => sm.getSync('b'), { code: 'ERR_CLOSED' })
})

test('callbacks over the batching backend: value-style and error-first, after the reply', async (t) => {
  const value = setup()
  const got = new Promise((resolve) => value.sm.get('a', resolve))
  await turn()
  value.transport.reply([[1, 1, 'x']])
  t.is(await got, 'x')
  const errorFirst = setup({ callbackStyle: 'error-first' })
  const failed = new Promise((resolve) => errorFirst.sm.get('a', (...args) => resolve(args)))
  await turn()
  errorFirst.transport.reply([[1, 2, 'ERR_PROTOCOL', 'bad']])
  const [err, result] = await failed
  t.is(err.code, 'ERR_PROTOCOL')
  t.is(result, undefined)
})

test("at a host change (down, then a new host serves), held locks hear 'lost' and release() answers false without a request; watches are started again ahead of queued calls, then hear a reset", async (t) => {
  const { transport, backend, sm } = setup()
  const locking = sm.lock('L')
  const events = []
  const stop = sm.watch('w:*', (event) => events.push(event))
  await turn()
  t.deepEqual(transport.sent, ['[[1,"lock","L",{"lease":30000,"wait":10000}],[2,"watch","w:*",1]]'])
  transport.reply([[1, 1, 4294967297], [2, 0]])
  const lock = await locking
  await stop.ready
  const lost = []
  lock.on('lost', (err) => lost.push(err.code))
  backend.down('ERR_HOST_EXITED', 'the host went away')
  t.deepEqual(lost, ['ERR_HOST_EXITED'])
  t.true(lock.lost)
  t.false(await lock.release())
  t.is(transport.sent.length, 1, 'release() of a lost lock asks nobody')
  // A call made while the next host is being found waits, then goes behind the watch.
  backend.reconnect()
  const got = sm.get('a')
  backend.hostReady(LIMITS)
  await turn()
  t.is(transport.sent[1], '[[4,"watch","w:*",1],[3,"get","a",0]]')
  t.deepEqual(events, [], 'no reset before the new host has the watch')
  transport.reply([[4, 0], [3, 1, 5]])
  t.is(await got, 5)
  t.deepEqual(events, [{ key: undefined, kind: 'reset', value: undefined }])
  transport.reply('~[[1,"set","w:1",2]]')
  t.deepEqual(events[1], { key: 'w:1', kind: 'set', value: 2 })
})

test('a released lock is not told at a host change; one still held is', async (t) => {
  const { transport, backend, sm } = setup()
  const first = sm.lock('A')
  const second = sm.lock('B')
  await turn()
  transport.reply([[1, 1, 1], [2, 1, 2]])
  const [a, b] = await Promise.all([first, second])
  const releasing = a.release()
  await turn()
  transport.reply([[3, 1, true]])
  t.true(await releasing)
  const told = []
  a.on('lost', () => told.push('A'))
  b.on('lost', () => told.push('B'))
  backend.down('ERR_HOST_EXITED', 'gone')
  t.deepEqual(told, ['B'])
})

test('at a host change, the namespace bounds this process set are set again on the new host, ahead of queued calls', async (t) => {
  const { transport, backend, sm } = setup()
  const cache = sm.ns('cache', { max: 50 })
  sm.ns('cache', { max: 70, maxBytes: 1000 }) // the last bounds given are the ones sent again
  await turn()
  t.deepEqual(transport.sent, ['[[1,"bound",null,{"max":50,"maxBytes":null},{"ns":"cache"}],[2,"bound",null,{"max":70,"maxBytes":1000},{"ns":"cache"}]]'])
  transport.reply([[1, 1, 0], [2, 1, 0]])
  await cache.ready()
  backend.down('ERR_HOST_EXITED', 'the host went away')
  backend.reconnect()
  const got = cache.get('a')
  backend.hostReady(LIMITS)
  await turn()
  t.is(transport.sent[1], '[[4,"bound",null,{"max":70,"maxBytes":1000},{"ns":"cache"}],[3,"get","a",0,{"ns":"cache"}]]')
  transport.reply([[4, 1, 0], [3, 1, 5]])
  t.is(await got, 5)
})

test('a shared segment the host offered but could not pass yet is mapped on a later reply, and read from then on', async (t) => {
  const { HostedStore } = require('../../lib/hosted-store')
  const { normalizeConfig } = require('../../lib/config')
  const { NOT_READ } = require('../../lib/backend')
  const { eventually } = require('../helpers')
  const store = new HostedStore(normalizeConfig({ sharedReads: true }))
  store.applyBatch('[[1,"set","k","v"]]')
  // No such descriptor number: only the socket can pass it, and nobody serves that name yet.
  const segment = { ...store.segment(), fd: 1 << 20 }
  const socket = { name: `sharedmemory-test-${process.pid}-${Date.now()}`, token: 'a'.repeat(64) }
  const transport = fakeTransport()
  const backend = new BatchingBackend(transport, { timeout: 5000, connectTimeout: 5000, sharedReads: true, ready: { ...LIMITS, segment, socket } })
  t.is(backend.readNow(null, 'k', true), NOT_READ, 'not mapped: the host is asked')
  t.true(store.tryServe(socket.name, socket.token))
  await eventually(() => {
    transport.reply([]) // a reply: the host is responsive, the offer is tried again (at most once a second)
    return backend.readNow(null, 'k', true) === 'v'
  }, 'the segment mapped after a reply')
  t.deepEqual(transport.sent, [], 'and nothing was sent for it')
  store.stopServing()
})
