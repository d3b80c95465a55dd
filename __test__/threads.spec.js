'use strict'

// worker_threads and child_process.fork() children join their process's
// store (lib/process-store.js): real threads, real processes, real sockets.

const crypto = require('node:crypto')
const test = require('ava')

const { runFixture } = require('./helpers')
const { Peer } = require('./peers')

const fresh = (what) => `test-${what}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`
const EXACT = { counter: 800, locked: 100 } // 4 threads × 200 increments, 4 × 25 read-then-write under the lock
const clean = { code: 0, signal: null }

const pools = [
  ['a plain process (a cluster primary) hosting, init() after the Workers start', ['primary'], 'master', 'local'],
  ['a cluster worker (its primary hosts)', ['worker'], 'worker', 'socket'],
  ['a process hosting a named store', ['named', null], 'master', 'local'],
]

for (const [title, args, role, transport] of pools) {
  test(`a pool of 4 worker_threads in ${title} shares one exact counter and one lock`, async (t) => {
    const { result, code, signal } = await runFixture('threads.js', args.map((arg) => arg ?? fresh('threads')))
    t.deepEqual({ counter: result.counter, locked: result.locked }, EXACT)
    t.deepEqual(result.main, { role, transport })
    t.deepEqual(result.threads, Array(4).fill({ role, transport }), 'each thread in its process part')
    t.deepEqual({ code, signal }, clean)
  })
}

test('a pool of 4 worker_threads in a client of a named store: every thread is a client of the same host', async (t) => {
  const name = fresh('threads-client')
  const host = new Peer(t, 'peer.js', [name])
  t.is((await host.ask('info')).role, 'master')
  const { result, code, signal } = await runFixture('threads.js', ['named', name])
  t.deepEqual({ counter: result.counter, locked: result.locked }, EXACT)
  t.deepEqual(result.main, { role: 'worker', transport: 'socket' })
  t.deepEqual(result.threads, Array(4).fill({ role: 'worker', transport: 'socket' }))
  t.is((await host.ask('get', { key: 'n' })).value, 800, 'the host holds what the threads counted')
  t.deepEqual({ code, signal }, clean)
})

test('a Worker that alone loads the addon gets its own store with a warning, and the process exits cleanly once it is terminated', async (t) => {
  const { result, code, signal, stderr } = await runFixture('thread-ends.js', ['alone'], { deadlineMs: 60000 })
  t.deepEqual({ role: result.role, transport: result.transport, seen: result.seen }, { role: 'master', transport: 'local', seen: 1 })
  t.is(result.warnings.length, 1)
  t.regex(result.warnings[0], /a store of its own, shared with nobody/)
  t.deepEqual({ code, signal }, clean, stderr)
})

test("a terminated Worker's locks pass on at once to the process's other threads", async (t) => {
  const { result, code, signal } = await runFixture('thread-ends.js', ['lock'], { deadlineMs: 60000 })
  t.deepEqual({ role: result.thread.role, transport: result.thread.transport }, { role: 'master', transport: 'local' })
  t.deepEqual(result.thread.warnings, [])
  t.true(result.mainGot, 'the main thread got the lock the thread held (its lease was 10 minutes)')
  t.deepEqual({ code, signal }, clean)
})

test('close() in the main thread of a hosting process: a thread that used the store directly fails with ERR_HOST_EXITED, not silently alone', async (t) => {
  const { result, code, signal } = await runFixture('thread-ends.js', ['close'], { deadlineMs: 60000 })
  t.is(result.thread.transport, 'local')
  t.deepEqual(result.late, { code: 'ERR_HOST_EXITED' })
  t.deepEqual({ code, signal }, clean)
})

for (const [title, args] of [
  ['a hosting parent', ['master']],
  ['a parent sharing a named store', ['named', null]],
]) {
  test(`a forked child of ${title} shares its store: one exact counter, and it reads what the parent set`, async (t) => {
    const { result, code, signal } = await runFixture('fork-child.js', args.map((arg) => arg ?? fresh('fork')))
    t.is(result.counter, 1000)
    t.deepEqual(result.child, { role: 'worker', transport: 'socket', seen: 'hello child' })
    t.deepEqual(result.parent, { role: 'master', transport: 'local' })
    t.deepEqual({ code, signal }, clean)
  })
}

test('a worker thread of a named store client follows its process through a failover: the survivor hosts, its thread then uses the store directly', async (t) => {
  const name = fresh('threads-failover')
  const host = new Peer(t, 'peer.js', [name])
  t.is((await host.ask('info')).role, 'master')
  const client = new Peer(t, 'peer.js', [name])
  t.is((await client.ask('info')).role, 'worker')
  const before = await client.ask('threadIncr', { key: 'n', times: 5 })
  t.like(before, { last: 5, role: 'worker', transport: 'socket' })
  await host.ask('lock', { key: 'L' })
  // The thread waits for a lock the host holds: how that wait ends shows the thread noticed the host go.
  const waited = client.ask('threadWaitLock', { key: 'L' })
  host.kill('SIGKILL')
  await host.exited
  t.true(['ERR_HOST_EXITED', 'got'].includes((await waited).got), 'failed with the host, or granted by the next one')
  const after = await client.ask('threadIncr', { key: 'n', times: 1 })
  t.like(after, { last: 6, role: 'master', transport: 'local' }, 'the survivor took the store over, and its thread joined it')
})
