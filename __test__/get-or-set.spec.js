'use strict'

// getOrSet(key, fn, {ttl}): single flight across processes (issue 12).
// __test__/fixtures/get-or-set.js.

const test = require('ava')

const { runFixture, allModes } = require('./helpers')

for (const [name, env] of allModes) {
  test(`${name}: a missing value is computed once for every worker; a failure reaches every waiter and is not cached`, async (t) => {
    const { result: r } = await runFixture('get-or-set.js', [], { env, deadlineMs: 110000 })
    t.is(r.done.length, 4)
    t.is(r.computations, 1, 'fn ran once, whoever asked')
    const values = r.done.map((d) => d.value.value)
    t.is(new Set(values.map((v) => v.by)).size, 1, 'every worker got the one computed value')
    t.true(values.every((v) => v.total === 42))
    t.true(r.ttl > 0 && r.ttl <= 60000, `ttl ${r.ttl}`)
    t.is(r.failures, 1, 'the failing fn ran once: the waiters got its error instead of running it again')
    for (const d of r.done) t.like(d.error, { message: 'the backend is down', code: 'E_BACKEND' })
    t.is(r.done.filter((d) => d.error.elsewhere).length, 3, 'three waiters got the error of the fourth')
    t.deepEqual(r.cachedAfterFailure, { undefined: true }, 'nothing cached on failure')
    t.is(r.badFn.error, 'ERR_INVALID_ARGUMENT')
    t.is(r.badTtl.error, 'ERR_INVALID_ARGUMENT')
    t.true(r.exits.every((code) => code === 0), JSON.stringify(r.exits))
  })
}
