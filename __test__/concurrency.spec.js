'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

for (const transport of ['socket', 'ipc']) {
  const env = { SM_TRANSPORT: transport }

  test(`${transport}: a get issued right after a set from the same worker sees it; one turn travels as one batch`, async (t) => {
    const { result } = await runFixture('order.js', [], { env })
    for (const worker of [result.w1, result.w2]) {
      t.is(worker.transport, transport)
      t.true(worker.inOrder)
      t.true(worker.plusOnesInOrder)
      // 1,110 requests made in one synchronous loop and 100 more in the same turn.
      t.is(worker.batchesSent, 1)
      t.is(worker.repliesReceived, 1)
    }
  })

  test(`${transport}: concurrent plusOne from 4 workers sums exactly`, async (t) => {
    const { result } = await runFixture('counter.js', [], { env })
    t.is(result.final, result.expected)
    t.true(result.everyNumberOnce)
    t.true(result.eachWorkerIncreasing)
  })
}
