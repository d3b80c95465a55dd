'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const absent = { undefined: true }

for (const transport of ['socket', 'ipc']) {
  const env = { SM_TRANSPORT: transport }

  test(`${transport}: LRU evicts the least recently used key beyond max`, async (t) => {
    const { result } = await runFixture('cache.js', ['lru'], { env })
    t.deepEqual(result, { a: { value: 'a' }, b: absent, c: { value: 'c' }, d: { value: 'd' } })
  })

  test(`${transport}: cache.maxBytes bounds the bytes held, evicting the least recently used`, async (t) => {
    const { result } = await runFixture('cache.js', ['max-bytes'], { env })
    t.deepEqual(result, {
      oldestGone: absent,
      newestKept: true,
      withinBound: true,
      entries: 9,
      evictions: 11,
      tooLarge: { error: 'ERR_VALUE_TOO_LARGE', name: 'SharedMemoryError' },
    })
  })

  test(`${transport}: LRU keeps 10000 entries by default`, async (t) => {
    const { result } = await runFixture('cache.js', ['lru-default'], { env })
    t.deepEqual(result, { first: absent, fifth: absent, sixth: { value: 5 }, last: { value: 10004 } })
  })
}

// Expiry is the store's own business; one transport is enough to watch it.
for (const scenario of ['expire', 'expire-time']) {
  test(`sliding expiry (${scenario === 'expire' ? 'expire' : 'time'} option): reads keep a key, idle keys go`, async (t) => {
    const { result } = await runFixture('cache.js', [scenario])
    t.deepEqual(result, { allReadsHit: true, reads: true, idle: absent, readGoesOnceIdle: true })
  })
}
