'use strict'

// sharedmemory/rate-limit: the express-rate-limit store. The scenario is
// __test__/fixtures/rate-limit.js: three workers serving an Express app with
// real express-rate-limit middleware on their own ports, the master as the
// HTTP client spreading requests over them. Runs over both transports.

const test = require('ava')

const { runFixture } = require('./helpers')

for (const transport of ['socket', 'ipc']) {
  test(`over ${transport}: one limit for the whole app, whichever worker serves`, async (t) => {
    const { result: s } = await runFixture('rate-limit.js', [], { env: { SM_TRANSPORT: transport }, deadlineMs: 170000 })

    // Sequential requests round robin over three workers: the count is the app's, not a worker's.
    t.deepEqual(
      s.sequential.map((r) => r.status),
      [200, 200, 200, 200, 200, 429, 429, 429, 429, 429, 429, 429],
    )
    t.deepEqual(s.sequential.slice(0, 5).map((r) => r.remaining), [4, 3, 2, 1, 0])
    t.deepEqual([...new Set(s.sequential.map((r) => r.worker))].sort(), [1, 2, 3])
    t.is(s.adaCount, 12, 'every hit counted, the limited ones too (as express-rate-limit does)')
    t.true(s.adaTtl > 0 && s.adaTtl <= 60000, `the window is the key's TTL: ${s.adaTtl}`)

    // Thirty concurrent requests over all workers: exactly the limit passes.
    t.deepEqual(s.burst, { passed: 5, limited: 25 })
    t.deepEqual(s.burstWorkers, [1, 2, 3])
    t.is(s.bobCount, 30)
    t.is(s.other, 200, 'another client has its own count')

    // resetKey on one worker is seen by another.
    t.like(s.afterReset, { status: 200, remaining: 4 })
    t.is(s.afterResetCount, 1)

    // skipSuccessfulRequests takes successes back (decrement): only failures count toward 3.
    t.deepEqual(s.logins, [200, 401, 200, 401, 200, 401, 429, 429])
    t.is(s.danFailures, 5)
    t.deepEqual(s.loginChanges, [1, 0, 1, 2, 1, 2, 3, 2, 3, 4, 5], 'hit, taken back; hit; ...; limited hits count')

    // A window ends when its key expires, and the client is let in again.
    t.deepEqual(s.shortRun, [200, 200, 429])
    t.true(s.shortTtl > 0 && s.shortTtl <= 4000, `short window ttl ${s.shortTtl}`)
    t.is(s.afterWindow, 200)
    t.is(s.afterWindowCount, 1, 'a new window starts at the first hit after the end')

    // The Store interface itself.
    t.is(s.getInfo.totalHits, 30)
    t.true(s.getInfo.resetIsDate)
    t.true(s.getInfo.resetInMs > 0 && s.getInfo.resetInMs <= 60000)
    t.true(s.getMissing)
    t.is(s.decrementMissing, 0, 'a decrement after the window ended does not leave a negative count')
    t.deepEqual(s.afterResetAll, { minute: 0, short: 1, unrelated: 1 }, 'resetAll clears its own prefix only')
    t.is(s.shortStorePrefix, 'short:')
    t.false(s.localKeys)
    t.deepEqual(s.workerExits, [0, 0, 0])
  })
}

test('the store refuses options it cannot use', (t) => {
  const { RateLimitStore } = require('../rate-limit')
  t.throws(() => new RateLimitStore(null), { code: 'ERR_INVALID_ARGUMENT' })
  t.throws(() => new RateLimitStore({ prefix: 5 }), { code: 'ERR_INVALID_ARGUMENT', message: /prefix/ })
  t.throws(() => new RateLimitStore({ namespace: '' }), { code: 'ERR_INVALID_ARGUMENT', message: /namespace/ })
  t.throws(() => new RateLimitStore({ controller: {} }), { code: 'ERR_INVALID_ARGUMENT', message: /controller/ })
  const store = new RateLimitStore()
  store.init({ windowMs: 1234 })
  t.is(store.windowMs, 1234)
  t.is(store.prefix, 'rl:')
  t.is(require('../rate-limit').default, RateLimitStore)
})
