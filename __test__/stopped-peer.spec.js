'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

/** What the master may grow by while one worker is stopped: the 8 MiB watch backlog, and room for the garbage of the writer's traffic. */
const BOUND_MB = 100

for (const transport of ['socket', 'ipc']) {
  test(`${transport}: a stopped watcher with requests in flight costs the master a bounded amount, and gets only its own replies afterwards`, async (t) => {
    const { result } = await runFixture('stopped-peer.js', [], { env: { SM_TRANSPORT: transport }, deadlineMs: 170000 })
    t.deepEqual(result.written, { failures: 0, last: 256 * 1024 }, 'the writer was served throughout')
    t.deepEqual(result.watched, { ownReplies: true, told: 'ERR_WATCH_OVERFLOW', someEventsSeen: true, notAll: true })
    t.true(result.masterGrowthMB < BOUND_MB, `the master grew by ${result.masterGrowthMB} MB (300 MB of events were written)`)
  })
}
