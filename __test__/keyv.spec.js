'use strict'

// sharedmemory/keyv: the Keyv storage adapter, through the real Keyv and
// cache-manager packages, in two workers (__test__/fixtures/keyv.js).

const test = require('ava')

const { runFixture } = require('./helpers')

for (const transport of ['socket', 'ipc']) {
  test(`over ${transport}: Keyv and cache-manager share one cache between workers`, async (t) => {
    const { result: s } = await runFixture('keyv.js', [], { env: { SM_TRANSPORT: transport }, deadlineMs: 110000 })

    t.like(s.write, { set: true, short: true, many: [true, true], post: true, computed: 1 })
    t.deepEqual(s.write.wrap, { builtBy: 1, rows: [1, 2, 3] })

    // The other worker reads what the first stored, through its own Keyv instances.
    t.deepEqual(s.read.ada, { name: 'Ada', langs: ['en'] })
    t.deepEqual(s.read.many, [1, 'two', null], 'get([keys]): undefined (null in JSON) where missing')
    t.deepEqual(s.read.getMany, ['two', 1])
    t.deepEqual(s.read.has, [true, false])
    t.deepEqual(s.read.hasMany, [true, false, true])
    t.is(s.read.post, 'hello')
    // cache-manager's wrap: computed once, in worker 1; worker 2 is served the cached value.
    t.deepEqual(s.read.wrap, { builtBy: 1, rows: [1, 2, 3] })
    t.deepEqual(s.read.cacheGet, { builtBy: 1, rows: [1, 2, 3] })
    t.is(s.read.computed, 0, 'worker 2 never ran the function')

    // Keys as Keyv prefixes them, in the adapter's store namespace; TTLs as Keyv gave them.
    t.deepEqual(s.rawKeys, ['posts:p1', 'users:a', 'users:ada', 'users:b', 'users:short'])
    t.true(s.shortTtl > 0 && s.shortTtl <= 3000, `ttl ${s.shortTtl}`)
    t.true(s.bTtl > 59000 && s.bTtl <= 60000, `ttl ${s.bTtl}`)
    t.is(s.aTtl, -1, 'no TTL when Keyv gives none')
    // The store expired the short entry (the master saw its 'expire' event): gone for every worker.
    t.deepEqual(s.afterExpiry, { short: true, hasShort: false })

    t.deepEqual(s.remove, { deleteMany: true, deleteManyAgain: false, delete: true, deleteMissing: false })
    // clear() on the 'users' Keyv clears its namespace only.
    t.deepEqual(s.clearUsers, { x: true, post: 'hello', report: true })
    // After cache.del, wrap computes again (in worker 2 this time).
    t.deepEqual(s.cacheDel, { wrap: { builtBy: 2, rows: [1, 2, 3] }, computed: 1 })
    t.deepEqual(s.errors, [{ errors: [] }, { errors: [] }])
    t.deepEqual(s.workerExits, [0, 0])
  })
}

test('the adapter refuses options it cannot use, and reports failures to Keyv', async (t) => {
  const { KeyvSharedMemory } = require('../keyv')
  t.throws(() => new KeyvSharedMemory(null), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => new KeyvSharedMemory({ namespace: '' }), { code: 'ERR_INVALID_ARGUMENT', message: /namespace/ })
  t.throws(() => new KeyvSharedMemory({ controller: 5 }), { code: 'ERR_INVALID_ARGUMENT', message: /controller/ })
  t.is(require('../keyv').default, KeyvSharedMemory)
  // A controller whose calls fail: the failure is emitted as 'error' (Keyv listens) and rejects.
  const failing = { ns: () => ({ get: () => Promise.reject(Object.assign(new Error('boom'), { code: 'ERR_TIMEOUT' })) }) }
  const adapter = new KeyvSharedMemory({ controller: failing })
  const seen = []
  adapter.on('error', (err) => seen.push(err.code))
  await t.throwsAsync(adapter.get('k'), { message: 'boom' })
  t.deepEqual(seen, ['ERR_TIMEOUT'])
})
