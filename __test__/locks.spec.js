'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const modes = [
  ['socket', ''],
  ['ipc', ''],
  ['relay mode over socket', '1'],
  ['relay mode over ipc', '1'],
]

for (const [name, relay] of modes) {
  const transport = name.endsWith('ipc') ? 'ipc' : 'socket'
  test(`${name}: a lock whose holder is SIGKILLed goes to the waiters in order, with growing tokens`, async (t) => {
    const { result } = await runFixture('locks.js', [], { env: { SM_TRANSPORT: transport, SM_RELAY: relay } })
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
