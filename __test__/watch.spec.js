'use strict'

const test = require('ava')

const { runFixture, allModes } = require('./helpers')

const users = [
  { key: 'user:1', kind: 'set', value: { a: 1 } },
  { key: 'user:1', kind: 'delete' },
  { key: 'user:2', kind: 'set', value: 'x' },
  { key: 'user:2', kind: 'expire' },
]

for (const [name, env] of allModes) {
  test(`${name}: a watch sees another worker's writes, deletes, expiries and evictions, in order`, async (t) => {
    const { result } = await runFixture('watch.js', [], { env })
    const { seen, master } = result
    t.deepEqual(seen.users, users)
    t.deepEqual(seen.first, [
      { key: 'fill:0', kind: 'set', value: 0 },
      { key: 'fill:0', kind: 'evict' },
    ])
    t.deepEqual(seen.inB, [{ key: 'user:3', kind: 'set', value: 'in b' }], 'namespaces are apart')
    t.true(seen.stoppedAnswer)
    t.is(seen.afterStop, users.length, 'a stopped watch sees nothing more')
    t.deepEqual(seen.later, [{ key: 'user:10', kind: 'set', value: 10 }])
    t.deepEqual(master, [...users, { key: 'user:9', kind: 'set', value: 9 }, { key: 'user:10', kind: 'set', value: 10 }])
  })
}

test('socket: a subscriber that falls behind does not hold the store back, loses events past the bound, and is told', async (t) => {
  const { result } = await runFixture('watch-overflow.js')
  t.deepEqual(result, {
    doneWhileBusy: true,
    code: 'ERR_WATCH_OVERFLOW',
    name: 'SharedMemoryError',
    someDropped: true,
    someDelivered: true,
  })
})
