'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const failed = (code, name = 'SharedMemoryError') => ({ error: code, name })

for (const transport of ['socket', 'ipc']) {
  const env = { SM_TRANSPORT: transport }

  test(`${transport}: a request the frozen master cannot answer times out; the worker is served again afterwards`, async (t) => {
    const { result } = await runFixture('faults.js', ['timeout'], { env })
    t.deepEqual(result, {
      timedOut: failed('ERR_TIMEOUT'),
      syncTimedOut: transport === 'socket' ? 'ERR_TIMEOUT' : 'not tried',
      after: { value: 1 },
      afterSet: { value: 'OK' },
    })
  })

  test(`${transport}: a worker whose master never calls init() gets ERR_NO_HOST, not silence`, async (t) => {
    const { result } = await runFixture('faults.js', ['no-master'], { env })
    t.deepEqual(result, {
      first: failed('ERR_NO_HOST'),
      later: failed('ERR_NO_HOST'),
      laterWasImmediate: true,
      // value-style callbacks are not called with a fake value; the error goes to 'error'
      callbackCalled: false,
      errors: ['ERR_NO_HOST'],
    })
  })

  test(`${transport}: the master may call init() after its workers have queued requests`, async (t) => {
    const { result } = await runFixture('faults.js', ['late-init'], { env })
    t.deepEqual(result, {
      set: { value: 'OK' },
      get: { value: 'queued before the master was ready' },
      masterSees: { value: 'queued before the master was ready' },
    })
  })

  test(`${transport}: bad keys and values get typed errors and leave the store intact`, async (t) => {
    const { result } = await runFixture('faults.js', ['bad-input'], { env })
    const badKey = failed('ERR_INVALID_KEY', 'TypeError')
    t.deepEqual(result.worker, {
      keyIsTypeError: true,
      keys: [badKey, badKey, badKey, badKey, badKey, badKey],
      values: [
        failed('ERR_INVALID_VALUE'),
        failed('ERR_INVALID_VALUE'),
        failed('ERR_INVALID_VALUE'),
        failed('ERR_VALUE_TOO_LARGE'),
        failed('ERR_VALUE_TOO_LARGE'),
      ],
      notANumber: failed('ERR_NOT_A_NUMBER'),
      keep: { value: { a: 1 } },
      text: { value: 'abc' },
      other: { undefined: true },
      errorName: 'SharedMemoryError',
      isSharedMemoryError: true,
    })
    t.deepEqual(result.master, {
      key: badKey,
      value: failed('ERR_INVALID_VALUE'),
      keep: { value: { a: 1 } },
      throwsSynchronously: false,
    })
  })

  test(`${transport}: foreign and malformed messages are ignored; the master keeps serving`, async (t) => {
    const { result } = await runFixture('faults.js', ['foreign'], { env })
    t.deepEqual(result, { keep: { value: 'intact' }, plusOne: { value: 1 }, masterStillServes: { value: 'intact' } })
  })

  test(`${transport}: a worker killed mid-request leaves the master and the other workers unharmed`, async (t) => {
    const { result } = await runFixture('faults.js', ['killed'], { env })
    t.deepEqual(result, {
      signal: 'SIGKILL',
      early: { value: 'written before the kill' },
      count: { value: 200 },
      masterCount: { value: 200 },
    })
  })

  test(`${transport}: relay mode: when the manager worker dies, waiting requests fail at once and later ones too`, async (t) => {
    const { result } = await runFixture('faults.js', ['manager-exits'], { env })
    t.deepEqual(result, {
      inFlight: failed('ERR_HOST_EXITED'),
      afterwards: failed('ERR_NO_HOST'),
      master: failed('ERR_NO_HOST'),
    })
  })
}

test("socket: what a peer claims or trickles costs the master nothing; real workers are still served", async (t) => {
  const { result } = await runFixture('faults.js', ['limits'], { env: { SM_TRANSPORT: 'socket' } })
  t.log(JSON.stringify(result))
  const MB = 32 // "a few tens of MB": a claim used to cost its full size (1024 MB)
  for (const attack of ['claimBeforeToken', 'bareToken', 'claimAfterToken', 'overAfterToken']) {
    t.true(result[attack].grewMb < MB, `${attack}: the master's RSS grew by ${result[attack].grewMb} MB`)
  }
  // Before the token, an oversized claim closes the connection at once; after it, a claim
  // within the 1 GiB batch limit waits for its bytes, and one over it gets a coded reply.
  t.not(result.claimBeforeToken.closed, 'open')
  t.not(result.bareToken.closed, 'open')
  t.is(result.claimAfterToken.closed, 'open')
  t.regex(result.overAfterToken.closed, /ERR_PROTOCOL.*over the limit/)
  // Cut at the 5 s handshake deadline, while it was still trickling (200 bytes would take 200 s).
  t.is(result.trickle.state, 'closed', 'the server closed the trickling connection')
  t.true(result.trickle.bytes < 200)
  // 64 connections may wait for their handshake; the other 36 of 100 are closed at once.
  t.true(result.idle.closedAtOnce >= 36, `${result.idle.closedAtOnce} of 100 silent connections closed at once`)
  t.true(result.idle.threadsGrew <= 64 + 8, `the master gained ${result.idle.threadsGrew} threads`)
  t.deepEqual(result.get, { value: 'yes' })
  t.deepEqual(result.late, { transport: 'socket', get: { value: 'yes' } })
  t.deepEqual(result.master, { value: 'yes' })
})

test('a plain process using the store waits for its lock, then exits by itself when its work is done', async (t) => {
  const { result, code } = await runFixture('standalone.js', [], { deadlineMs: 60000 })
  t.deepEqual(result, { value: [0, 1, 2, 3], lockPassed: true })
  t.is(code, 0)
})
