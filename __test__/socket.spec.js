'use strict'

const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const path = require('node:path')

const test = require('ava')

const { run, runFixture } = require('./helpers')

const failed = (code, name = 'SharedMemoryError') => ({ error: code, name })
const absent = { undefined: true }

test('socket: sync calls fail before ready(), then keep order with async calls', async (t) => {
  const { result } = await runFixture('socket.js', ['sync'], { env: { SM_TRANSPORT: 'socket' } })
  t.deepEqual(result.worker, {
    transport: 'socket',
    beforeReady: failed('ERR_NOT_READY'),
    queued: { value: 'OK' },
    seesQueued: { value: 'async, before ready' },
    seesUnawaited: { value: 'async, not awaited' },
    setSync: { value: 'OK' },
    asyncSeesSync: { value: { n: 1 } },
    plusOnes: [{ value: 1 }, { value: 2 }],
    many: { value: 'OK' },
    afterMany: [{ value: 1 }, absent],
    removed: { value: 'OK' },
    afterRemove: absent,
    badKey: failed('ERR_INVALID_KEY', 'TypeError'),
    tooLarge: failed('ERR_VALUE_TOO_LARGE'),
    notANumber: failed('ERR_NOT_A_NUMBER'),
  })
  t.deepEqual(result.master, { transport: 'local', set: { value: 'OK' }, get: { value: 1 } })
})

test('ipc: sync calls say they need the socket transport', async (t) => {
  const { result } = await runFixture('socket.js', ['sync'], { env: { SM_TRANSPORT: 'ipc' } })
  t.deepEqual(result.worker, {
    transport: 'ipc',
    beforeReady: failed('ERR_NOT_READY'),
    afterReady: failed('ERR_SYNC_UNAVAILABLE'),
    queued: { value: 'OK' },
  })
})

test('socket: only a process of the same user that knows the token gets in', async (t) => {
  const { result } = await runFixture('socket.js', ['intruders'], { env: { SM_TRANSPORT: 'socket' } })
  t.is(result.sameUserRightToken, 'connected [[1,1,"ours"]]') // the control: the probe itself works
  t.regex(result.sameUserWrongToken, /^refused /)
  if (result.otherUserRightToken === 'not root') t.log('not root: the other-user check needs setpriv as root')
  else t.regex(result.otherUserRightToken, /^refused /)
  t.deepEqual(result.stillServes, { value: 'ours' })
})

test('socket: a SIGKILLed host leaves nothing behind that stops the next one', async (t) => {
  const name = `sharedmemory-test-${process.pid}-${crypto.randomBytes(4).toString('hex')}`
  const probe = path.join(__dirname, 'fixtures', 'socket-probe.js')
  const crashed = spawn(process.execPath, [probe, 'serve', name, 'token-1'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve) => crashed.stdout.once('data', resolve)) // "serving"
  t.is((await run(probe, ['connect', name, 'token-1'])).stdout.trim(), 'connected [[1,1,"mine"]]')
  const exited = new Promise((resolve) => crashed.once('exit', (code, signal) => resolve(signal)))
  crashed.kill('SIGKILL')
  t.is(await exited, 'SIGKILL')
  // A new host takes the very same name at once.
  const next = spawn(process.execPath, [probe, 'serve', name, 'token-2'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const started = await new Promise((resolve) => {
    next.stdout.once('data', (chunk) => resolve(chunk.toString().trim()))
    next.once('exit', () => resolve('exited'))
  })
  t.is(started, 'serving')
  t.is((await run(probe, ['connect', name, 'token-2'])).stdout.trim(), 'connected [[1,1,"mine"]]')
  next.kill('SIGKILL')
})

test("socket: workers are served while the master's JS thread is blocked", async (t) => {
  const { result } = await runFixture('faults.js', ['busy-master'], { env: { SM_TRANSPORT: 'socket' } })
  t.deepEqual(result, { completedWhileBlocked: true, allServed: true, final: 100 })
})

test("ipc: requests wait for the blocked master's JS thread (why the socket exists)", async (t) => {
  const { result } = await runFixture('faults.js', ['busy-master'], { env: { SM_TRANSPORT: 'ipc' } })
  t.deepEqual(result, { completedWhileBlocked: false, allServed: true, final: 100 })
})
