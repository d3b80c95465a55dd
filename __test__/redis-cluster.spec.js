'use strict'

// The Redis backend against a real 3-primary Redis Cluster on 127.0.0.1
// (started and stopped by PID by __test__/redis-server.js): keys spread over
// every node, multi-key operations split by slot, scans over every primary,
// locks, and the namespace hash tag.

const test = require('ava')

const { RedisBackend } = require('../lib/backends/redis')
const { normalizeConfig } = require('../lib/config')
const { createController } = require('../lib/create')
const { startCluster, runCli } = require('./redis-server')

let cluster
let prefixes = 0

test.before(async () => {
  cluster = await startCluster()
})

test.after.always(async () => {
  if (cluster) await cluster.stop()
})

function client(t, redis = {}) {
  const backend = new RedisBackend(
    normalizeConfig({ redis: { url: cluster.url, cluster: true, prefix: `cl:${++prefixes}:`, ...redis } }),
  )
  t.teardown(() => backend.close())
  return [createController(backend, { role: 'client' }), `cl:${prefixes}:`]
}

/** How many keys under `prefix` each node holds, to see where keys really are. */
async function perNode(prefix) {
  const sizes = []
  for (const node of cluster.nodes) {
    const out = await runCli(['-p', String(node.port), '--scan', '--pattern', `${prefix}*`])
    sizes.push(out.split('\n').filter(Boolean).length)
  }
  return sizes
}

test('keys spread over every node; every operation answers as on one server', async (t) => {
  const [sm, prefix] = client(t)
  await sm.ready()
  const pairs = {}
  for (let i = 0; i < 60; i++) pairs[`k${i}`] = i
  t.is(await sm.mset(pairs), 'OK')
  t.true((await perNode(prefix)).every((n) => n > 0), 'each node holds some keys')
  const keys = Object.keys(pairs)
  t.deepEqual(await sm.mget([...keys, 'missing']), [...Object.values(pairs), undefined])
  t.is(await sm.size(), 60)
  t.deepEqual((await sm.keys('k1?')).sort(), ['k10', 'k11', 'k12', 'k13', 'k14', 'k15', 'k16', 'k17', 'k18', 'k19'])
  t.is(await sm.incr('k5', 10), 15)
  t.true(await sm.set('t', 1, { nx: true, ttl: 60_000 }))
  t.true((await sm.ttl('t')) > 0)
  t.true(await sm.compareAndSet('t', 1, 2))
  t.is(await sm.getSet('t', 3), 2)
  t.is(await sm.mset({ a: 1, b: 2, c: 3 }, { ttl: 60_000 }), 'OK')
  t.true((await sm.ttl('c')) > 0)
  t.is(sm.getSync('k7'), 7)
  t.is(sm.setSync({ x: 1, y: 2, z: 3 }), 'OK')
  const stats = await sm.stats()
  t.is(stats.entries, 60 + 1 + 3 + 3)
  const other = sm.ns('other')
  await other.set('k1', 'kept')
  t.is(await sm.clear(), 'OK')
  t.is(await sm.size(), 0)
  t.is(await other.get('k1'), 'kept')
})

test('locks: a waiter gets the lock on release; tokens grow', async (t) => {
  const [sm] = client(t)
  const first = await sm.lock('job')
  const waiting = sm.lock('job', { wait: 20_000 })
  t.true(await first.release())
  const second = await waiting
  t.true(second.token > first.token)
  t.true(await second.release())
})

test("hashTag 'namespace' keeps a namespace in one slot: one node holds all its keys", async (t) => {
  const [sm, prefix] = client(t, { hashTag: 'namespace' })
  const ns = sm.ns('users')
  const pairs = {}
  for (let i = 0; i < 30; i++) pairs[`u${i}`] = i
  t.is(await ns.mset(pairs), 'OK')
  t.is((await perNode(prefix)).filter((n) => n > 0).length, 1)
  t.is(await ns.size(), 30)
  t.deepEqual(await ns.mget(['u0', 'u29']), [0, 29])
  await ns.clear()
  t.is(await ns.size(), 0)
})

test("watch on a cluster: events of keys on every node (a subscriber per primary), notifications: 'configure'", async (t) => {
  const [plain] = client(t)
  await t.throwsAsync(plain.watch('*', () => {}).ready, { code: 'ERR_REDIS_NOTIFICATIONS', message: /notify-keyspace-events/ })
  const [sm, prefix] = client(t, { notifications: 'configure' })
  const events = []
  const stop = sm.watch('w*', (event) => events.push(event))
  await stop.ready
  const keys = Array.from({ length: 30 }, (_, i) => `w${i}`)
  for (const key of keys) await sm.set(key, 1)
  await sm.delete('w0')
  await sm.set('other', 1)
  t.true((await perNode(prefix)).every((n) => n > 0), 'the keys are on every node')
  const end = Date.now() + 20000
  while (events.length < 31 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  t.deepEqual(events.filter((e) => e.kind === 'set').map((e) => e.key).sort(), [...keys].sort())
  t.deepEqual(events.filter((e) => e.kind === 'delete').map((e) => e.key), ['w0'])
  t.true(await stop())
})
