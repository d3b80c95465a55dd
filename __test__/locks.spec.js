'use strict'

const test = require('ava')

const { runFixture, allModes } = require('./helpers')

for (const [name, env] of allModes) {
  test(`${name}: a lock whose holder is SIGKILLed goes to the waiters in order, with growing tokens`, async (t) => {
    const { result } = await runFixture('locks.js', [], { env })
    t.is(result.held.key, 'job')
    t.is(typeof result.held.token, 'number')
    // Released when the holder died, not when its 60 s lease would have run out.
    t.true(result.killedToGranted < 30000, `granted ${result.killedToGranted} ms after the kill`)
    t.deepEqual(result.tokens, [true, true])
    t.deepEqual(result.released, [true, true])
    t.deepEqual(result.busy, {
      noWait: { error: 'ERR_LOCK_TIMEOUT', name: 'SharedMemoryError' },
      shortWait: { error: 'ERR_LOCK_TIMEOUT', name: 'SharedMemoryError' },
    })
    t.deepEqual(result.leases, { nextToken: true, lateRelease: false, nextRelease: true })
    t.deepEqual(result.extras, {
      withLock: { value: 42 },
      freeAgain: { value: true },
      badLease: { error: 'ERR_INVALID_ARGUMENT', name: 'SharedMemoryError' },
      badWait: { error: 'ERR_INVALID_ARGUMENT', name: 'SharedMemoryError' },
    })
  })
}
