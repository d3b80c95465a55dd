'use strict'

// Sync calls on a worker's first line (issue 12): __test__/fixtures/first-line.js.

const test = require('ava')

const { runFixture } = require('./helpers')
const { parentStore, ENV } = require('../lib/process-store')

test('a worker forked after its master called init() makes sync calls on the line after init()', async (t) => {
  const { result } = await runFixture('first-line.js', ['served'])
  for (const worker of result.results) {
    t.deepEqual(worker.first, { value: 'hello from the master' })
    t.is(worker.transport, 'socket')
  }
  t.deepEqual(result.results.map((w) => w.incr.value).sort(), [1, 2], 'sync increments from both workers, each counted once')
  t.is(result.counter, 2)
})

test('without a host: transport reads connecting, sync calls say ERR_NOT_READY, then ERR_NO_HOST once none was found', async (t) => {
  const { result } = await runFixture('first-line.js', ['no-host'])
  for (const worker of result.results) {
    t.deepEqual(worker, {
      transport: 'connecting',
      first: { error: 'ERR_NOT_READY', name: 'SharedMemoryError' },
      ready: 'ERR_NO_HOST',
      afterNoHost: { error: 'ERR_NO_HOST', name: 'SharedMemoryError' },
      transportAfter: 'connecting',
    })
  }
})

test("the store in the environment is used only by the exporting process's own children", (t) => {
  const exported = (pid) => ({ [ENV]: JSON.stringify({ pid, socket: { name: 'n', token: 't' }, limits: { maxValueSize: 1, serialization: 'json' } }) })
  t.like(parentStore(exported(process.ppid)), { socket: { name: 'n', token: 't' } })
  t.is(parentStore(exported(process.pid)), null, 'another process (here this one) left it')
  t.is(parentStore({ [ENV]: '{not json' }), null)
  t.is(parentStore({}), null)
})
