'use strict'

// One suite, run against every backend: the local store (this process hosts
// it, as a master does) and Redis (a real redis-server this file starts, on a
// unix socket and on 127.0.0.1). Expectations differ only where the README's
// "Redis" section says they do, and then through the backend's capabilities.

const test = require('ava')

const { DirectBackend } = require('../lib/backends/direct')
const { RedisBackend } = require('../lib/backends/redis')
const { normalizeConfig } = require('../lib/config')
const { createController } = require('../lib/create')
const { HostedStore } = require('../lib/hosted-store')
const { eventually } = require('./helpers')
const { startRedis } = require('./redis-server')

const servers = {}
let prefixes = 0

test.before(async () => {
  const args = ['--notify-keyspace-events', 'KEA']
  servers.unix = await startRedis({ args })
  servers.tcp = await startRedis({ tcp: true, args })
})

test.after.always(async () => {
  for (const server of Object.values(servers)) await server.stop()
})

/** name → (options) → {sm, close}: a controller of a fresh, empty store; `more(options)` adds one over the same store. */
const backends = {
  local(options = {}) {
    const config = normalizeConfig(options)
    const store = new HostedStore(config)
    const open = []
    const more = (extra = {}) => {
      const backend = new DirectBackend(store, { ...config, ...normalizeConfig({ ...options, ...extra }) })
      open.push(backend)
      return createController(backend, { role: 'master', callbackStyle: config.callbackStyle })
    }
    const sm = more()
    return { sm, more, close: () => Promise.all(open.map((b) => b.close())) }
  },
  redis: (server) => (options = {}) => {
    const redis = { url: servers[server].url, prefix: `conf:${process.pid}:${++prefixes}:` }
    const open = []
    const more = (extra = {}) => {
      const backend = new RedisBackend(normalizeConfig({ ...options, ...extra, redis }))
      open.push(backend)
      return createController(backend, { role: 'client', callbackStyle: options.callbackStyle || 'value' })
    }
    const sm = more()
    return { sm, more, close: () => Promise.all(open.map((b) => b.close())) }
  },
}

const targets = [
  ['local', backends.local],
  ['redis unix', backends.redis('unix')],
  ['redis tcp', backends.redis('tcp')],
]

/** Registers `fn(t, ctx)` once per backend; ctx: {sm, more, caps, redis}. */
function conform(title, fn, options) {
  for (const [name, make] of targets) {
    const redis = name !== 'local'
    test(`${name}: ${title}`, async (t) => {
      const ctx = make(options)
      await ctx.sm.ready()
      try {
        await fn(t, { ...ctx, redis, caps: capsOf(ctx.sm) })
      } finally {
        await ctx.close()
      }
    })
  }
}

/** The backend's capabilities (lib/backend.js), through the controller's backend. */
function capsOf(sm) {
  return sm.capabilities
}

conform('get, set, remove, delete, has; values as JSON carries them', async (t, { sm }) => {
  t.is(await sm.get('missing'), undefined)
  t.is(await sm.set('a', { n: [1, 2], s: 'x', u: undefined }), 'OK')
  t.deepEqual(await sm.get('a'), { n: [1, 2], s: 'x' })
  t.is(await sm.set('d', new Date(0)), 'OK')
  t.is(await sm.get('d'), '1970-01-01T00:00:00.000Z')
  t.true(await sm.has('a'))
  t.true(await sm.delete('a'))
  t.false(await sm.delete('a'))
  t.false(await sm.has('a'))
  t.is(await sm.set('gone', 1), 'OK')
  t.is(await sm.set('gone', undefined), 'OK')
  t.false(await sm.has('gone'))
  t.is(await sm.remove('d'), 'OK')
  t.is(await sm.get('d'), undefined)
  for (const key of ['', '__proto__', 'a:b', 'glob*?[x]\\', 'line\nbreak', 'é ☃ 𝄞', '"quoted"']) {
    await sm.set(key, key)
    t.is(await sm.get(key), key, JSON.stringify(key))
  }
  await sm.set(5, 'five')
  t.is(await sm.get('5'), 'five')
  await t.throwsAsync(sm.get({}), { instanceOf: TypeError, code: 'ERR_INVALID_KEY' })
  await t.throwsAsync(sm.set('big', 10n), { code: 'ERR_INVALID_VALUE' })
})

conform('set(object) stores every property, undefined ones removed', async (t, { sm }) => {
  await sm.set('b', 1)
  t.is(await sm.set({ a: 1, b: undefined, c: [3] }), 'OK')
  t.deepEqual(await sm.mget(['a', 'b', 'c']), [1, undefined, [3]])
})

conform('TTLs: ttl, expire, persist, and a key that expires', async (t, { sm }) => {
  await sm.set('t', 1, { ttl: 60_000 })
  const left = await sm.ttl('t')
  t.true(left > 0 && left <= 60_000, String(left))
  t.true(await sm.persist('t'))
  t.false(await sm.persist('t'))
  t.is(await sm.ttl('t'), -1)
  t.is(await sm.ttl('nope'), -2)
  t.false(await sm.expire('nope', 1000))
  t.true(await sm.expire('t', 60_000))
  await sm.set('t', 2) // a set without ttl drops the TTL
  t.is(await sm.ttl('t'), -1)
  await sm.set('short', 'x', { ttl: 50 })
  await eventually(async () => (await sm.get('short')) === undefined, 'the key expired')
  t.false(await sm.has('short'))
})

conform('nx and xx', async (t, { sm }) => {
  t.false(await sm.set('k', 1, { xx: true }))
  t.true(await sm.set('k', 1, { nx: true }))
  t.false(await sm.set('k', 2, { nx: true }))
  t.true(await sm.set('k', 3, { xx: true, ttl: 60_000 }))
  t.is(await sm.get('k'), 3)
  t.true((await sm.ttl('k')) > 0)
  await t.throwsAsync(sm.set('k', 1, { nx: true, xx: true }), { code: 'ERR_INVALID_ARGUMENT' })
})

conform('incr, decr, plusOne: counts from 0, keeps the TTL, refuses non-numbers and past 2^53', async (t, { sm }) => {
  t.is(await sm.plusOne('n'), 1)
  t.is(await sm.incr('n', 5), 6)
  t.is(await sm.decr('n'), 5)
  t.is(await sm.decr('n', 10), -5)
  t.is(await sm.incr('f', 1.5), 1.5)
  t.is(await sm.incr('f', 0.25), 1.75)
  t.is(await sm.incr('w', { ttl: 60_000 }), 1)
  const ttl = await sm.ttl('w')
  t.true(ttl > 0, 'the ttl applies when the increment creates the key')
  await sm.persist('w')
  t.is(await sm.incr('w', 1, { ttl: 60_000 }), 2)
  t.is(await sm.ttl('w'), -1, 'and not when it exists')
  await sm.set('s', 'text')
  await t.throwsAsync(sm.incr('s'), { code: 'ERR_NOT_A_NUMBER' })
  t.is(await sm.get('s'), 'text')
  await sm.set('o', { a: 1 })
  await t.throwsAsync(sm.incr('o'), { code: 'ERR_NOT_A_NUMBER' })
  await sm.set('max', Number.MAX_SAFE_INTEGER - 1)
  t.is(await sm.incr('max'), Number.MAX_SAFE_INTEGER)
  await t.throwsAsync(sm.incr('max'), { code: 'ERR_NOT_A_NUMBER', message: /2\^53/ })
  t.is(await sm.get('max'), Number.MAX_SAFE_INTEGER)
  await t.throwsAsync(sm.incr('n', 1n), { code: 'ERR_INVALID_ARGUMENT' })
  await sm.set('t', 1, { ttl: 60_000 })
  await sm.incr('t')
  t.true((await sm.ttl('t')) > 0, 'an increment keeps the TTL')
})

conform('getSet and compareAndSet compare bytes', async (t, { sm }) => {
  t.is(await sm.getSet('g', 1), undefined)
  t.is(await sm.getSet('g', { b: 2 }), 1)
  t.deepEqual(await sm.get('g'), { b: 2 })
  t.true(await sm.compareAndSet('c', undefined, { a: 1, b: 2 }))
  t.false(await sm.compareAndSet('c', undefined, 'x'))
  t.false(await sm.compareAndSet('c', { b: 2, a: 1 }, 'other key order'))
  t.true(await sm.compareAndSet('c', { a: 1, b: 2 }, 'next'))
  t.is(await sm.get('c'), 'next')
  t.false(await sm.compareAndSet('missing', 'x', 'y'))
  await sm.set('kept', 1, { ttl: 60_000 })
  t.true(await sm.compareAndSet('kept', 1, 2))
  t.true((await sm.ttl('kept')) > 0, 'compareAndSet keeps the TTL')
})

conform('mget and mset, with and without a ttl', async (t, { sm }) => {
  t.deepEqual(await sm.mget([]), [])
  t.is(await sm.mset({ a: 1, b: 'two' }), 'OK')
  t.deepEqual(await sm.mget(['a', 'x', 'b']), [1, undefined, 'two'])
  t.is(await sm.mset({ c: 3, d: 4 }, { ttl: 60_000 }), 'OK')
  t.true((await sm.ttl('c')) > 0)
  t.true((await sm.ttl('d')) > 0)
  t.is(await sm.ttl('a'), -1)
})

conform('keys, size and clear stay within their namespace; glob patterns as Redis KEYS', async (t, { sm }) => {
  const ab = sm.ns('a:b')
  const a = sm.ns('a')
  await ab.set('c', 'ab/c')
  await a.set('b:c', 'a/b:c')
  t.is(await ab.get('c'), 'ab/c')
  t.is(await a.get('b:c'), 'a/b:c')
  t.deepEqual(await a.keys(), ['b:c'])
  for (const key of ['user:1', 'user:2', 'user:10', 'admin', 'x*y', 'é1']) await sm.set(key, 1)
  t.deepEqual((await sm.keys()).sort(), ['admin', 'user:1', 'user:10', 'user:2', 'x*y', 'é1'])
  t.deepEqual((await sm.keys('user:*')).sort(), ['user:1', 'user:10', 'user:2'])
  t.deepEqual((await sm.keys('user:?')).sort(), ['user:1', 'user:2'])
  t.deepEqual((await sm.keys('user:[12]')).sort(), ['user:1', 'user:2'])
  t.deepEqual((await sm.keys('user:[^1]')).sort(), ['user:2'])
  t.deepEqual(await sm.keys('x\\*y'), ['x*y'])
  t.deepEqual(await sm.keys('é?'), ['é1'])
  t.deepEqual(await sm.keys('nothing*'), [])
  t.is(await sm.size(), 6)
  t.is(await ab.size(), 1)
  t.is(await ab.clear(), 'OK')
  t.is(await ab.size(), 0)
  t.is(await a.size(), 1)
  t.is(await sm.size(), 6)
  await sm.clear()
  t.is(await sm.size(), 0)
  t.is(await a.get('b:c'), 'a/b:c')
})

conform('stats count hits, misses, sets and deletes per namespace, and entries', async (t, { sm }) => {
  const ns = sm.ns('st')
  await ns.set('a', 1)
  await ns.set('b', 2)
  await ns.get('a')
  await ns.get('zz')
  await ns.mget(['a', 'b', 'c'])
  await ns.delete('b')
  await sm.set('root', 1)
  const stats = await ns.stats()
  t.like(stats, { entries: 1, hits: 3, misses: 2, sets: 2, deletes: 1 })
  t.true(stats.bytes > 0)
  const all = await sm.stats()
  t.is(all.entries, 2)
  t.like(all.namespaces.st, { entries: 1, hits: 3 })
  t.like(all.namespaces[''], { entries: 1, sets: 1 })
})

conform("serialization 'advanced' keeps Maps, Buffers, Dates and BigInts; numbers stay counters", async (t, { sm }) => {
  const value = new Map([['buf', Buffer.from([1, 2, 3])], ['when', new Date(5)], ['big', 2n ** 70n]])
  await sm.set('v', value)
  const back = await sm.get('v')
  t.true(back instanceof Map)
  t.deepEqual(Buffer.from(back.get('buf')), Buffer.from([1, 2, 3]))
  t.is(back.get('when').getTime(), 5)
  t.is(back.get('big'), 2n ** 70n)
  await sm.set('n', 5)
  t.is(await sm.incr('n'), 6)
  await sm.set('bigint', 5n)
  await t.throwsAsync(sm.incr('bigint'), { code: 'ERR_NOT_A_NUMBER' })
  t.true(await sm.compareAndSet('v', value, 'replaced'))
}, { serialization: 'advanced' })

conform('callbacks, promises and sync forms', async (t, { sm }) => {
  const got = await new Promise((resolve) => sm.set('cb', 7, () => sm.get('cb', resolve)))
  t.is(got, 7)
  t.is(sm.setSync('s', { x: 1 }), 'OK')
  t.deepEqual(sm.getSync('s'), { x: 1 })
  t.is(sm.incrSync('cnt'), 1)
  t.deepEqual(sm.mgetSync(['s', 'none']), [{ x: 1 }, undefined])
  t.is(sm.setSync({ p: 1, q: 2 }), 'OK')
  // Async calls made before a sync call are applied before it.
  sm.set('order', 'async')
  t.is(sm.getSync('order'), 'async')
  t.throws(() => sm.incrSync('s'), { code: 'ERR_NOT_A_NUMBER' })
})

conform('error-first callbacks', async (t, { sm }) => {
  await sm.set('s', 'x')
  const [err] = await new Promise((resolve) => sm.incr('s', (...args) => resolve(args)))
  t.is(err.code, 'ERR_NOT_A_NUMBER')
}, { callbackStyle: 'error-first' })

conform('locks: tokens grow, wait 0 fails at once, a waiter gets the lock on release, extend and release by the holder', async (t, { sm }) => {
  const first = await sm.lock('job', { lease: 30_000 })
  t.true(Number.isInteger(first.token))
  await t.throwsAsync(sm.lock('job', { wait: 0 }), { code: 'ERR_LOCK_TIMEOUT' })
  const waiting = sm.lock('job', { wait: 20_000 })
  t.true(await first.extend(30_000))
  t.true(await first.release())
  const second = await waiting
  t.true(second.token > first.token)
  t.false(await first.release(), 'a lock already released is not released again')
  t.false(await first.extend(1000))
  t.true(await second.release())
  // Lock keys are apart from stored keys, and namespaced.
  await sm.set('job', 'value')
  const lock = await sm.lock('job')
  const other = await sm.ns('other').lock('job', { wait: 0 })
  t.is(await sm.get('job'), 'value')
  await lock.release()
  await other.release()
  t.is(await sm.withLock('w', async (held) => held.token > 0), true)
  await t.throwsAsync(sm.lock('short', { lease: 1, wait: 0 }).then(() => sm.lock('x', { lease: -1 })), { code: 'ERR_INVALID_ARGUMENT' })
})

conform('a lock whose lease runs out passes to the next waiter', async (t, { sm }) => {
  const held = await sm.lock('lease', { lease: 200 })
  const next = await sm.lock('lease', { wait: 20_000 })
  t.true(next.token > held.token)
  t.false(await held.release())
})

conform('watch: set, delete and expire events of matching keys of the namespace', async (t, { sm, caps }) => {
  const events = []
  const stop = sm.watch('user:*', (event) => events.push(event))
  await stop.ready
  await sm.set('other', 1)
  await sm.ns('n').set('user:9', 1)
  await sm.set('user:1', { a: 1 })
  await sm.delete('user:1')
  await sm.set('user:2', 2, { ttl: 50 })
  await eventually(() => events.some((e) => e.kind === 'expire'), 'an expire event')
  const seen = events.map(({ key, kind }) => `${kind} ${key}`)
  t.deepEqual(seen, ['set user:1', 'delete user:1', 'set user:2', 'expire user:2'])
  if (caps.watchValues) t.deepEqual(events[0].value, { a: 1 })
  else t.is(events[0].value, undefined)
  await stop()
  await sm.set('user:3', 3)
  await sm.get('user:3') // a round trip after the set, so an event would have come before its answer
  t.is(events.length, 4)
})

conform('two controllers over one store see each other (two machines, on Redis)', async (t, { sm, more }) => {
  const other = more()
  await other.ready()
  await sm.set('shared', 'from one')
  t.is(await other.get('shared'), 'from one')
  t.is(await other.incr('count'), 1)
  t.is(await sm.incr('count'), 2)
})

conform('capabilities say what the backend guarantees', async (t, { caps, redis }) => {
  t.true(caps.sync)
  t.is(caps.lockReleaseOnExit, !redis)
  t.is(caps.watchValues, !redis)
  t.is(caps.lruByCount, !redis)
  t.is(caps.atomicBatch, !redis)
})

conform('the express-session store works the same over the backend', async (t, { sm }) => {
  const SharedMemoryStore = require('../session')
  const store = new SharedMemoryStore({ controller: sm })
  const call = (method, ...args) =>
    new Promise((resolve, reject) => store[method](...args, (err, value) => (err ? reject(err) : resolve(value))))
  const session = { cookie: { maxAge: 60_000 }, user: 'ada' }
  await call('set', 'sid1', session)
  await call('set', 'sid2', { cookie: {}, user: 'bob' })
  t.like(await call('get', 'sid1'), { user: 'ada' })
  t.is(await call('get', 'nope'), undefined)
  t.is(await call('length'), 2)
  t.deepEqual((await call('all')).map((s) => s.user).sort(), ['ada', 'bob'])
  t.true((await sm.ns('sessions').ttl('sid1')) > 0)
  await call('touch', 'sid1', session)
  await call('destroy', 'sid2')
  t.is(await call('length'), 1)
  await sm.set('outside', 1)
  await call('clear')
  t.is(await call('length'), 0)
  t.is(await sm.get('outside'), 1, 'clear() empties only the sessions namespace')
})
