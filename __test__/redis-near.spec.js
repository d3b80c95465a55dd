'use strict'

// The near-cache (nearCache option) against a real redis-server: reads of
// keys read before are answered from this process's memory (Redis's own
// command counters prove no GET reached it), and stay correct by Redis's
// tracking invalidations: after another process's acknowledged write, once
// the invalidation is in, the old value is never answered again; reads racing
// writes never bring an older value back; a lost server flushes the cache.

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')
const test = require('ava')

const { RedisBackend } = require('../lib/backends/redis')
const { normalizeConfig } = require('../lib/config')
const { createController } = require('../lib/create')
const { eventually } = require('./helpers')
const { startRedis, runCli } = require('./redis-server')

const CLIENT = path.join(__dirname, 'fixtures', 'redis-client.js')
let prefixes = 0

function near(t, server, nearCache = {}) {
  const prefix = `near:${process.pid}:${++prefixes}:`
  const backend = new RedisBackend(normalizeConfig({ redis: { url: server.url, prefix }, nearCache, timeout: 1000, connectTimeout: 1000 }))
  t.teardown(() => backend.close())
  return { sm: createController(backend, { role: 'client' }), cache: backend.nearCache, prefix }
}

/** Runs the fixture (another machine) to its DONE line; it is killed by PID if the test ends first. */
async function other(t, args) {
  const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const line = await new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.stdout.once('end', () => resolve(null)) // exited without its line: the test fails, never hangs
  })
  t.is(line, 'DONE')
}

async function getCalls(server) {
  const info = await runCli(['-p', String(server.port), 'info', 'commandstats'])
  const match = /cmdstat_get:calls=(\d+)/.exec(info)
  return match ? Number(match[1]) : 0
}

/** Reads `key` until the near-cache answers it (tracking is on and the value is kept). */
async function cached(sm, cache, key) {
  await eventually(async () => {
    const before = cache.hits
    await sm.get(key)
    return cache.hits > before
  }, `a near-cache hit for ${key}`)
}

test('reads of keys read before are answered from local memory: no GET reaches Redis', async (t) => {
  const server = await startRedis({ tcp: true })
  t.teardown(() => server.stop())
  const { sm, cache } = near(t, server)
  await sm.set('k', { v: 1 })
  await cached(sm, cache, 'k')
  const calls = await getCalls(server)
  for (let i = 0; i < 100; i++) t.deepEqual(await sm.get('k'), { v: 1 })
  t.deepEqual(sm.getSync('k'), { v: 1 })
  t.is(await getCalls(server), calls)
  // Each answer is a fresh copy.
  const copy = await sm.get('k')
  copy.v = 99
  t.deepEqual(await sm.get('k'), { v: 1 })
  // A write of this process is read back at once.
  await sm.set('k', 2)
  t.is(await sm.get('k'), 2)
  t.is(sm.getSync('k'), 2)
})

test("another process's acknowledged write: once its invalidation is in, the old value never comes back", async (t) => {
  const server = await startRedis({ tcp: true })
  t.teardown(() => server.stop())
  const { sm, cache, prefix } = near(t, server)
  await sm.set('k', 'old')
  await cached(sm, cache, 'k')
  await other(t, [server.url, prefix, 'set', 'k', 'new'])
  await eventually(async () => (await sm.get('k')) === 'new', 'the new value')
  for (let i = 0; i < 500; i++) t.is(await sm.get('k'), 'new')
  t.true(cache.hits > 0)
})

test('reads racing writes never bring an older value back', async (t) => {
  const server = await startRedis({ tcp: true })
  t.teardown(() => server.stop())
  const { sm, cache, prefix } = near(t, server)
  await sm.set('n', 0)
  await cached(sm, cache, 'n')
  const writes = 300
  const writer = other(t, [server.url, prefix, 'seq', String(writes)])
  let last = 0
  let reads = 0
  let done = false
  writer.then(() => (done = true))
  // Reads go on while the other process writes 1, 2, ..., each acknowledged before the next.
  while (last < writes) {
    const seen = await sm.get('n')
    reads++
    if (seen < last) t.fail(`read ${seen} after ${last}`)
    last = seen
    if (done && last < writes) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await writer
  t.is(last, writes)
  t.true(reads > 0)
  t.true(cache.hits > 0, 'some reads were served from the near-cache')
})

test('a lost server flushes the near-cache: no cached value is served, and none survives the restart', async (t) => {
  let server = await startRedis()
  t.teardown(() => server.stop())
  const { sm, cache } = near(t, server)
  await sm.set('k', 'before')
  await cached(sm, cache, 'k')
  await server.kill()
  await eventually(async () => {
    try {
      await sm.get('k')
      return false
    } catch (err) {
      return ['ERR_REDIS_UNAVAILABLE', 'ERR_TIMEOUT'].includes(err.code)
    }
  }, 'get failing once the server is gone')
  t.is(cache.size, 0)
  server = await server.restart() // empty
  await eventually(async () => (await sm.get('k')) === undefined, 'the restarted, empty server answering')
  await sm.set('k', 'after')
  await cached(sm, cache, 'k')
  t.is(await sm.get('k'), 'after')
})

test('the near-cache keeps at most max entries', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const { sm, cache } = near(t, server, { max: 10 })
  await sm.set('warm', 1)
  await cached(sm, cache, 'warm')
  for (let i = 0; i < 50; i++) await sm.set(`k${i}`, i)
  for (let i = 0; i < 50; i++) t.is(await sm.get(`k${i}`), i)
  t.true(cache.size <= 10, String(cache.size))
  t.true(cache.size > 0)
})
