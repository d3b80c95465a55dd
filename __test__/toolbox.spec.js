'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const failed = (code, name = 'SharedMemoryError') => ({ error: code, name })
const absent = { undefined: true }
const value = (v) => ({ value: v })

for (const transport of ['socket', 'ipc']) {
  test(`${transport}: keys and values, atomics, TTLs, namespaces and stats across workers`, async (t) => {
    const { result } = await runFixture('toolbox.js', [], { env: { SM_TRANSPORT: transport } })
    const { written, read, master } = result
    t.deepEqual(written.keysAndValues, {
      mset: value('OK'),
      mget: value(['ada', null, 1]), // undefined for the missing key, which JSON shows as null
      has: [value(true), value(false)],
      keys: value(['user:1', 'user:2']),
      allKeys: value(['job:1', 'user:1', 'user:2']),
      size: value(3),
      deleteHit: value(true),
      deleteMiss: value(false),
    })
    t.deepEqual(written.atomics, {
      incr: [value(1), value(6), value(5), value(3)],
      notANumber: failed('ERR_NOT_A_NUMBER'),
      unchanged: value('ada'),
      nx: [value(true), value(false)],
      xx: [value(false), value(true)],
      once: value(3),
      getSet: [absent, value('first')],
      cas: [value(true), value(false), value(false), value(true)],
      cas_: value({ v: 4 }),
      badAmount: failed('ERR_INVALID_ARGUMENT'),
      badTtl: failed('ERR_INVALID_ARGUMENT'),
    })
    t.deepEqual(written.ttls, {
      noTtl: value(-1),
      missing: value(-2),
      long: value('OK'),
      remaining: value(true),
      persist: value(true),
      afterPersist: value(-1),
      expire: value(true),
      expireMissing: value(false),
      plainSetClearsTtl: value(-1),
      counterWindow: [value(1), value(2), value(true)],
    })
    t.deepEqual(written.namespaces, {
      set: [value('OK'), value('OK'), value('OK')],
      get: [value('in a'), value('in b'), value('default')],
      sizes: [value(1), value(1)],
      clearA: value('OK'),
      afterClear: [absent, value('in b'), value('default')],
      namespace: [null, 'a'],
    })
    t.deepEqual(written.shortLived, value('OK'))
    t.deepEqual(read.seen, value('lived'))
    t.true(read.ttlWhileSeen)
    t.true(read.expired)
    t.deepEqual(read.ttlAfter, value(-2))
    t.deepEqual(read.fromB, value('in b'))
    t.deepEqual(read.stats, { hasCounters: true, expirations: true, namespaces: ['', 'a', 'b'], bEntries: 1, bHasBytes: true })
    if (transport === 'socket') {
      t.deepEqual(read.sync, { has: true, mget: ['bob', null], incr: 13, ttl: -1, nsGet: 'in b' })
    } else {
      t.is(read.sync, 'not over ipc')
    }
    t.deepEqual(master, { get: value('in b') })
  })
}
