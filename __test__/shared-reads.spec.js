'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

// (The fixture's result travels as JSON: mget's undefined for a missing key arrives as null.)
// ttl of 't' (60 s), 'k' (none), a missing key, and one whose 1 ms TTL ran out (a miss at once, unswept).
const hasAndMget = {
  has: [{ value: true }, { value: false }],
  mget: { value: [{ v: 3 }, null] },
  ttl: ['left', { value: -1 }, { value: -2 }, { value: -2 }],
  short: { undefined: true },
}
const timedOut = { error: 'ERR_TIMEOUT', name: 'SharedMemoryError' }
const inFlight = (socket) => ({ other: timedOut, write: timedOut, otherSync: socket ? timedOut : 'not tried', lock: timedOut })
const reads = { first: { v: 1 }, sync: { v: 1 }, missing: true, ownWrite: { v: 2 }, ownSyncWrite: { v: 3 } }

for (const [name, env] of [
  ['socket', { SM_TRANSPORT: 'socket' }],
  ['ipc', { SM_TRANSPORT: 'ipc' }],
]) {
  test(`${name}: gets come from shared memory, even while the master is frozen; a worker reads its own writes; the reads count as hits and misses`, async (t) => {
    const { result } = await runFixture('shared-reads.js', [], { env })
    t.deepEqual(result.reads, reads)
    const getSync = name === 'socket' ? { v: 3 } : 'not tried'
    const ttlSync = name === 'socket' ? 'left' : 'not tried'
    t.deepEqual(result.frozen, { get: { value: { v: 3 } }, getSync, ttlSync, ...hasAndMget, set: timedOut, inFlight: inFlight(name === 'socket') })
    // first, sync, 10 in the loop, and the two after the own writes: all hits wherever they were read.
    t.is(result.hits, 14)
    t.is(result.misses, 1)
  })
}

for (const [name, env] of [
  ['socket', { SM_TRANSPORT: 'socket' }],
  ['ipc', { SM_TRANSPORT: 'ipc' }],
]) {
  test(`${name}: the segment grows past its first generation with the store, and every key is still read from it while the master is frozen`, async (t) => {
    const { result } = await runFixture('shared-growth.js', [], { env })
    t.deepEqual(result, { right: 20000, wrong: [], missing: true, entries: 20000, grew: true, empty: true })
  })
}

test('relay mode: gets come from the manager\'s shared memory, even while it is frozen; writes wait for it', async (t) => {
  const { result } = await runFixture('shared-reads.js', [], { env: { SM_TRANSPORT: 'socket', SM_RELAY: '1' } })
  t.deepEqual(result.reads, reads)
  t.deepEqual(result.frozen, { get: { value: { v: 3 } }, getSync: { v: 3 }, ttlSync: 'left', ...hasAndMget, set: timedOut, inFlight: inFlight(true) })
})

test('every kind of key and value, in every namespace, reads back from shared memory as the host would answer it', async (t) => {
  const { result } = await runFixture('shared-values.js')
  t.deepEqual(result, {
    read: 87,
    wrong: [],
    numeric: { value: 'seven' },
    big: { error: 'ERR_TIMEOUT', name: 'SharedMemoryError' },
    bigLater: true,
  })
})

test('objects a worker keeps from shared reads never show: another worker\'s acknowledged change is read at once, a TTL that ran out is a miss, a caller\'s changes stay its own, reads count as hits and uses', async (t) => {
  const { result } = await runFixture('shared-cache.js')
  t.deepEqual(result.wrong, [])
  // (live: read back before its TTL, unless the machine was too slow to tell.)
  t.like(result.expiry, { expired: true, expiredAgain: true })
  t.true(result.expiry.live === true || result.expiry.live === 'too late to tell', String(result.expiry.live))
  t.is(result.reads, 40 * 7 + 4)
  t.deepEqual({ hits: result.hits, misses: result.misses }, result.expected, 'the host counted every read')
  t.true(result.expected.misses >= 8 + 2, 'removals and the expired entry were misses')
  t.deepEqual(result.lruRead, { again: { key: 'a' }, third: { key: 'a' } })
  t.deepEqual(result.kept, { a: true, b: false, c: true, d: true }, 'the kept, unchanged entry read again counted as a use: b was the least recently used')
})
