'use strict'

// ns(name, {max, maxBytes, ttl}): a namespace bounded on its own evicts only
// its own entries (the scenario of issue 12: 100 cache writes under a
// store-wide max of 100 used to log a user out). __test__/fixtures/ns-bounds.js.

const test = require('ava')

const { runFixture, allModes } = require('./helpers')

for (const [name, env] of allModes) {
  test(`${name}: a bounded cache namespace evicts its own entries, never a session`, async (t) => {
    const { result: r } = await runFixture('ns-bounds.js', [], { env, deadlineMs: 110000 })
    t.deepEqual(r.session, { value: { user: 'ada' } }, 'the login survived 122 cache writes')
    t.is(r.cacheSize, 50, 'the bound set by one worker holds for writes of another process')
    t.deepEqual(r.oldestPage, { undefined: true })
    t.deepEqual(r.newestPage, { value: 119 })
    t.deepEqual(r.evictions, { cache: 72, sessions: 0 })
    // ns(name, {ttl}): the default TTL of that controller's writes; an explicit one wins.
    t.is(r.worker.defaultTtl, 60000)
    t.true(r.worker.pageTtl > 55000 && r.worker.pageTtl <= 60000, `page ttl ${r.worker.pageTtl}`)
    t.true(r.worker.explicitTtl > 0 && r.worker.explicitTtl <= 5000)
    t.true(r.worker.incrTtl)
    t.deepEqual(r.badOptions.map((o) => o.error), ['ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT'])
    t.true(r.exits.every((code) => code === 0), JSON.stringify(r.exits))
  })
}
