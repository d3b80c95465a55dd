'use strict'

// The adapters built on the API, on the Redis backend (issue 11, item 6):
// sharedmemory/rate-limit under the real express-rate-limit middleware and
// sharedmemory/keyv under the real Keyv and cache-manager, each in two plain
// Node processes (no cluster: they stand for two machines) that share one
// real redis-server this file starts, on a unix socket and on 127.0.0.1. The
// processes are __test__/fixtures/redis-adapters.js; this process is the
// HTTP client and looks at the store through a Redis controller of its own.

const { fork } = require('node:child_process')
const path = require('node:path')

const test = require('ava')

const { RedisBackend } = require('../lib/backends/redis')
const { normalizeConfig } = require('../lib/config')
const { createController } = require('../lib/create')
const { eventually } = require('./helpers')
const { startRedis } = require('./redis-server')

const FIXTURE = path.join(__dirname, 'fixtures', 'redis-adapters.js')
const servers = {}
let prefixes = 0

test.before(async () => {
  servers.unix = await startRedis()
  servers.tcp = await startRedis({ tcp: true })
})

test.after.always(async () => {
  for (const server of Object.values(servers)) await server.stop()
})

/** A store prefix no other test (nor an earlier run on a reused server) has used. */
function freshPrefix(what) {
  return `adapters:${what}:${process.pid}:${++prefixes}:`
}

/** A Redis controller of this process over `url` and `prefix` (what a third machine would see). */
function controllerOf(url, prefix) {
  return createController(new RedisBackend(normalizeConfig({ redis: { url, prefix } })), { role: 'client', callbackStyle: 'value' })
}

/**
 * Starts a fixture process (one machine) and answers {child, next, exited}:
 * next() resolves with the next IPC message (in order), exited with its exit
 * code or signal. The test kills it by its PID if it is still there at the end.
 */
function machine(t, url, prefix, role) {
  const child = fork(FIXTURE, [url, prefix, role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const queue = []
  const waiting = []
  child.on('message', (message) => (waiting.length > 0 ? waiting.shift().resolve(message) : queue.push(message)))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  exited.then((how) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${role} machine ${child.pid} exited (${how}) before answering`))
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
  })
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => waiting.push({ resolve, reject })))
  return { child, next, exited }
}

/** One HTTP request: status, the machine (PID) that served it, and the RateLimit-Remaining it reported. */
async function call(port, route, { client, method = 'GET' }) {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { method, headers: { 'x-client': client } })
  await res.arrayBuffer()
  const remaining = res.headers.get('ratelimit-remaining') // express-rate-limit's draft-6 headers
  return { status: res.status, machine: Number(res.headers.get('x-machine')), remaining: remaining === null ? null : Number(remaining) }
}

for (const server of ['unix', 'tcp']) {
  test(`redis ${server}: express-rate-limit counts one limit for two machines`, async (t) => {
    const { url } = servers[server]
    const prefix = freshPrefix('rate-limit')
    const machines = [machine(t, url, prefix, 'web'), machine(t, url, prefix, 'web')]
    const ports = (await Promise.all(machines.map((m) => m.next()))).map((m) => m.port)
    const pids = machines.map((m) => m.child.pid).sort()
    const sm = controllerOf(url, prefix)
    t.teardown(() => sm.close())
    const counts = sm.ns('rate-limit')

    // Twelve requests of one client, one after the other, alternating machines: 5 pass.
    const sequential = []
    for (let i = 0; i < 12; i++) sequential.push(await call(ports[i % 2], '/minute', { client: 'ada' }))
    t.deepEqual(sequential.map((r) => r.status), [200, 200, 200, 200, 200, 429, 429, 429, 429, 429, 429, 429])
    t.deepEqual(sequential.slice(0, 5).map((r) => r.remaining), [4, 3, 2, 1, 0])
    t.deepEqual([...new Set(sequential.map((r) => r.machine))].sort(), pids)
    t.is(await counts.get('minute:ada'), 12, 'every hit counted, the limited ones too')
    const adaTtl = await counts.ttl('minute:ada')
    t.true(adaTtl > 0 && adaTtl <= 60000, `the window is the key's TTL in Redis: ${adaTtl}`)

    // Forty at once from another client, half on each machine: exactly 5 pass.
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => call(ports[i % 2], '/minute', { client: 'bob' })))
    t.is(burst.filter((r) => r.status === 200).length, 5)
    t.is(burst.filter((r) => r.status === 429).length, 35)
    t.deepEqual([...new Set(burst.map((r) => r.machine))].sort(), pids)
    t.is(await counts.get('minute:bob'), 40)
    t.is((await call(ports[0], '/minute', { client: 'cleo' })).status, 200, 'another client has its own count')

    // resetKey on one machine lets the client in on the other.
    await call(ports[0], '/reset', { client: 'ada', method: 'POST' })
    t.like(await call(ports[1], '/minute', { client: 'ada' }), { status: 200, remaining: 4 })
    t.is(await counts.get('minute:ada'), 1)

    // skipSuccessfulRequests: a success is counted, then taken back once its
    // response has finished (maybe after the client read it), so each request
    // waits until the count is what it leaves behind: the hit is in before
    // the response, and the count only settles on that value when the
    // decrement (if any) is in too. Redis watch events carry no value, so
    // this polls the count, with a deadline.
    const logins = []
    const settled = []
    let failures = 0
    for (const ok of [1, 0, 1, 0, 1, 0, 1, 0]) {
      const { status } = await call(ports[logins.length % 2], `/login?ok=${ok}`, { client: 'dan' })
      logins.push(status)
      if (status !== 200) failures++
      await eventually(async () => (await counts.get('failures:dan')) === failures, `the failure count settles on ${failures}`)
      settled.push(failures)
    }
    t.deepEqual(logins, [200, 401, 200, 401, 200, 401, 429, 429])
    t.deepEqual(settled, [0, 1, 1, 2, 2, 3, 4, 5])

    // A short window: limited, then let in again once Redis expired the window's key.
    const shortRun = []
    for (let i = 0; i < 3; i++) shortRun.push((await call(ports[i % 2], '/short', { client: 'eve' })).status)
    t.deepEqual(shortRun, [200, 200, 429])
    const shortTtl = await counts.ttl('short:eve')
    t.true(shortTtl > 0 && shortTtl <= 3000, `short window ttl ${shortTtl}`)
    await eventually(async () => (await counts.ttl('short:eve')) === -2, 'the short window ends', 30000)
    t.is((await call(ports[1], '/short', { client: 'eve' })).status, 200)
    t.is(await counts.get('short:eve'), 1, 'a new window starts at the first hit after the end')

    // The Store interface itself, from a third process over the same Redis.
    const { RateLimitStore } = require('../rate-limit')
    const store = new RateLimitStore({ controller: sm, prefix: 'minute:' })
    store.init({ windowMs: 60_000 })
    const info = await store.get('bob')
    t.is(info.totalHits, 40)
    t.true(info.resetTime instanceof Date)
    t.true(info.resetTime - Date.now() > 0 && info.resetTime - Date.now() <= 60000)
    t.is(await store.get('nobody'), undefined)
    await store.decrement('nobody') // a window that ended: not restarted below zero
    t.is(await counts.get('minute:nobody'), 0)
    // resetAll's glob must match its prefix literally on Redis too: 'm*' is not a pattern.
    const starred = new RateLimitStore({ controller: sm, prefix: 'm*' })
    starred.init({ windowMs: 60_000 })
    await starred.increment('x')
    await counts.set('unrelated', 1)
    await starred.resetAll()
    t.is(await counts.get('m*x'), undefined)
    t.is(await counts.get('minute:bob'), 40, "resetAll of prefix 'm*' leaves 'minute:' alone")
    await store.resetAll()
    t.deepEqual(await counts.keys('minute:*'), [])
    t.is((await counts.keys('short:*')).length, 1)
    t.is(await counts.get('unrelated'), 1)

    for (const m of machines) m.child.send({ stop: true })
    t.deepEqual(await Promise.all(machines.map((m) => m.exited)), [0, 0])
  })

  test(`redis ${server}: Keyv and cache-manager share one cache between two machines`, async (t) => {
    const { url } = servers[server]
    const prefix = freshPrefix('keyv')
    const [one, two] = [machine(t, url, prefix, 'keyv'), machine(t, url, prefix, 'keyv')]
    await Promise.all([one.next(), two.next()])
    const step = async (m, name) => {
      m.child.send({ step: name })
      const answer = await m.next()
      t.is(answer.step, name)
      return answer.result
    }
    const sm = controllerOf(url, prefix)
    t.teardown(() => sm.close())
    const entries = sm.ns('keyv')
    const report = (m) => ({ builtBy: m.child.pid, rows: [1, 2, 3] })

    const write = await step(one, 'write')
    t.like(write, { set: true, short: true, many: [true, true], post: true, computed: 1 })
    t.deepEqual(write.wrap, report(one))
    // TTLs as Keyv gave them (read at once: the short one ends 3 s after it was set).
    const shortTtl = await entries.ttl('users:short')
    t.true(shortTtl > 0 && shortTtl <= 3000, `ttl ${shortTtl}`)
    const bTtl = await entries.ttl('users:b')
    t.true(bTtl > 30000 && bTtl <= 60000, `ttl ${bTtl}`)
    t.is(await entries.ttl('users:a'), -1, 'no TTL when Keyv gives none')

    // The other machine reads what the first stored, through its own Keyv instances.
    const read = await step(two, 'read')
    t.deepEqual(read.ada, { name: 'Ada', langs: ['en'] })
    t.deepEqual(read.many, [1, 'two', null], 'get([keys]): undefined (null in JSON) where missing')
    t.deepEqual(read.getMany, ['two', 1])
    t.deepEqual(read.has, [true, false])
    t.deepEqual(read.hasMany, [true, false, true])
    t.is(read.post, 'hello')
    // cache-manager's wrap: computed once, on machine one; machine two is served the cached value.
    t.deepEqual(read.wrap, report(one))
    t.deepEqual(read.cacheGet, report(one))
    t.is(read.computed, 0, 'machine two never ran the function')

    // Keys as Keyv prefixes them, in the adapter's store namespace.
    const keys = (await entries.keys()).filter((k) => k !== 'users:short') // it may have expired by now
    t.deepEqual(keys.sort(), ['posts:p1', 'users:a', 'users:ada', 'users:b'])
    // Redis expires the short entry: gone for every machine.
    await eventually(async () => (await entries.ttl('users:short')) === -2, 'users:short expires', 30000)
    t.deepEqual(await step(two, 'afterExpiry'), { short: true, hasShort: false })

    t.deepEqual(await step(one, 'remove'), { deleteMany: true, deleteManyAgain: false, delete: true, deleteMissing: false })
    // clear() on the 'users' Keyv clears its Keyv namespace only.
    t.deepEqual(await step(two, 'clearUsers'), { x: true, post: 'hello', report: true })
    t.deepEqual((await entries.keys()).sort(), ['posts:p1'])
    // A Keyv namespace is matched literally on Redis too: clearing 'p*' leaves 'posts' alone.
    const { Keyv } = require('keyv')
    const { KeyvSharedMemory } = require('../keyv')
    const starred = new Keyv({ store: new KeyvSharedMemory({ controller: sm }), namespace: 'p*' })
    t.true(await starred.set('k', 1))
    t.deepEqual((await entries.keys()).sort(), ['p*:k', 'posts:p1'])
    await starred.clear()
    t.deepEqual((await entries.keys()).sort(), ['posts:p1'])
    // After cache.del, wrap computes again (on machine two this time), once.
    t.deepEqual(await step(two, 'cacheDel'), { wrap: report(two), computed: 1 })
    t.deepEqual(await step(one, 'errors'), [])
    t.deepEqual(await step(two, 'errors'), [])

    for (const m of [one, two]) m.child.send({ stop: true })
    t.deepEqual(await Promise.all([one.exited, two.exited]), [0, 0])
  })
}
