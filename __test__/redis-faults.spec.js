'use strict'

// The Redis backend when things go wrong, against real redis-servers this
// file starts and kills by PID: a server killed mid-run (coded errors, no
// hang, reconnection, watch 'reset'), a stopped server (ERR_TIMEOUT), no
// server at all, a lock holder killed with SIGKILL, processes standing for
// machines, and a server without keyspace notifications.

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')
const test = require('ava')

const { RedisBackend } = require('../lib/backends/redis')
const { normalizeConfig } = require('../lib/config')
const { createController } = require('../lib/create')
const { eventually } = require('./helpers')
const { startRedis } = require('./redis-server')

const CLIENT = path.join(__dirname, 'fixtures', 'redis-client.js')
let prefixes = 0

function client(url, options = {}) {
  const redis = { url, prefix: `faults:${process.pid}:${++prefixes}:`, ...options.redis }
  const backend = new RedisBackend(normalizeConfig({ timeout: 1000, connectTimeout: 1000, ...options, redis }))
  return { sm: createController(backend, { role: 'client' }), prefix: redis.prefix, close: () => backend.close() }
}

/** Starts the fixture; `lines` yields what it prints; it is killed by PID when the test ends. */
function spawnClient(t, args) {
  const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  // Lines are kept from the start, so one printed before anyone waits for it is not lost.
  const kept = []
  const waiting = []
  readline.createInterface({ input: child.stdout }).on('line', (line) => (waiting.length > 0 ? waiting.shift()(line) : kept.push(line)))
  let ended = false
  // A child that exits without its line answers null, so the test fails instead of hanging.
  child.stdout.once('end', () => {
    ended = true
    for (const resolve of waiting.splice(0)) resolve(null)
  })
  const next = () =>
    kept.length > 0 ? Promise.resolve(kept.shift()) : ended ? Promise.resolve(null) : new Promise((resolve) => waiting.push(resolve))
  return { child, next, exited }
}

test('a server killed mid-run: coded errors at once, no hang; it reconnects, and watches get a reset', async (t) => {
  let server = await startRedis({ args: ['--notify-keyspace-events', 'KEA'] })
  t.teardown(() => server.stop())
  const { sm, close } = client(server.url)
  t.teardown(close)
  await sm.ready()
  const events = []
  const stop = sm.watch('*', (event) => events.push(event))
  await stop.ready
  t.is(await sm.set('k', 1), 'OK')
  await eventually(() => events.length === 1, 'the set event')

  await server.kill()
  const failures = await Promise.allSettled([sm.get('k'), sm.set('k', 2), sm.incr('n'), sm.keys()])
  for (const failure of failures) {
    t.is(failure.status, 'rejected')
    t.true(['ERR_REDIS_UNAVAILABLE', 'ERR_TIMEOUT'].includes(failure.reason.code), failure.reason.code)
  }
  const sync = t.throws(() => sm.getSync('k'))
  t.true(['ERR_REDIS_UNAVAILABLE', 'ERR_TIMEOUT'].includes(sync.code), sync.code)
  await t.throwsAsync(sm.ready(), { code: 'ERR_REDIS_UNAVAILABLE' })

  server = await server.restart() // an empty server where the old one was
  await eventually(async () => (await sm.set('k', 3)) === 'OK', 'a set after the restart')
  t.is(await sm.get('k'), 3)
  t.is(sm.getSync('k'), 3)
  await eventually(() => events.some((e) => e.kind === 'reset'), 'a reset event')
  t.like(events.find((e) => e.kind === 'reset'), { key: null, kind: 'reset' })
  const after = events.length
  await sm.set('again', 1)
  await eventually(() => events.slice(after).some((e) => e.key === 'again' && e.kind === 'set'), 'events after the reset')
})

test('a server that does not answer (SIGSTOP): ERR_TIMEOUT within the timeout, then served again', async (t) => {
  const server = await startRedis()
  t.teardown(async () => {
    process.kill(server.pid, 'SIGCONT')
    await server.stop()
  })
  const { sm, close } = client(server.url, { timeout: 300 })
  t.teardown(close)
  await sm.set('k', 1)
  process.kill(server.pid, 'SIGSTOP')
  await t.throwsAsync(sm.get('k'), { code: 'ERR_TIMEOUT' })
  t.throws(() => sm.getSync('k'), { code: 'ERR_TIMEOUT' })
  process.kill(server.pid, 'SIGCONT')
  await eventually(async () => (await sm.get('k')) === 1, 'a get once the server runs again')
})

test('no server at all: ready() and calls fail with ERR_REDIS_UNAVAILABLE, never hang', async (t) => {
  const server = await startRedis()
  await server.stop() // its socket path now leads nowhere
  const { sm, close } = client(server.url)
  t.teardown(close)
  await t.throwsAsync(sm.ready(), { code: 'ERR_REDIS_UNAVAILABLE' })
  await t.throwsAsync(sm.set('k', 1), { code: 'ERR_REDIS_UNAVAILABLE' })
  t.throws(() => sm.setSync('k', 1), { code: 'ERR_REDIS_UNAVAILABLE' })
  await t.throwsAsync(sm.lock('k', { wait: 0 }), { code: 'ERR_REDIS_UNAVAILABLE' })
})

test('a lock holder killed with SIGKILL: the waiter gets the lock once its lease ends, with a larger token', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const { sm, prefix, close } = client(server.url)
  t.teardown(close)
  const holder = spawnClient(t, [server.url, prefix, 'hold', '1500'])
  const line = await holder.next()
  t.regex(line, /^HELD \d+$/)
  const held = Number(line.split(' ')[1])
  await t.throwsAsync(sm.lock('job', { wait: 0 }), { code: 'ERR_LOCK_TIMEOUT' })
  // Waits far longer than the lease: the lock must come when the lease ends, not when the wait does.
  const waiting = sm.lock('job', { wait: 30_000 })
  holder.child.kill('SIGKILL')
  t.is((await holder.exited).signal, 'SIGKILL')
  const lock = await waiting
  t.true(lock.token > held)
  t.true(await lock.release())
})

test('processes standing for machines share one store: increments from two are all counted', async (t) => {
  const server = await startRedis({ tcp: true })
  t.teardown(() => server.stop())
  const { sm, prefix, close } = client(server.url)
  t.teardown(close)
  const a = spawnClient(t, [server.url, prefix, 'count', '300'])
  const b = spawnClient(t, [server.url, prefix, 'count', '300'])
  t.is(await a.next(), 'DONE')
  t.is(await b.next(), 'DONE')
  t.is(await sm.get('count'), 600)
  const c = spawnClient(t, [server.url, prefix, 'set', 'from', 'another machine'])
  t.is(await c.next(), 'DONE')
  t.is(await sm.get('from'), 'another machine')
})

test("watch needs keyspace notifications: a coded error without them, and 'configure' turns them on", async (t) => {
  const server = await startRedis() // notify-keyspace-events is empty by default
  t.teardown(() => server.stop())
  const plain = client(server.url)
  t.teardown(plain.close)
  const refused = plain.sm.watch('*', () => {})
  await t.throwsAsync(refused.ready, { code: 'ERR_REDIS_NOTIFICATIONS', message: /notify-keyspace-events/ })

  const configuring = client(server.url, { redis: { notifications: 'configure' } })
  t.teardown(configuring.close)
  const events = []
  const stop = configuring.sm.watch('k', (event) => events.push(event))
  await stop.ready
  await configuring.sm.set('k', 1)
  await eventually(() => events.length === 1, 'the set event')
  t.like(events[0], { key: 'k', kind: 'set', value: undefined })
})
