'use strict'

// What the master keeps for one IPC worker (lib/channel-outbox.js), over a
// fake channel whose writes complete when the test says so.

const test = require('ava')

const { ChannelOutbox, MAX_UNSENT_BYTES } = require('../../lib/channel-outbox')
const { open } = require('../../lib/envelope')

function channel() {
  const sent = []
  return {
    connected: true,
    sent,
    send(message, written) {
      sent.push({ message: open(message), written })
    },
    /** Completes every write so far. */
    flush() {
      for (const entry of sent.splice(0)) entry.written()
    },
  }
}

const event = (bytes) => `~[[1,"set","k","${'x'.repeat(bytes)}"]]`

test('watch events beyond the bound are dropped and reported once the channel drains; replies and grants always go', (t) => {
  const worker = channel()
  const outbox = new ChannelOutbox(worker)
  const size = 1024 * 1024
  let taken = 0
  while (outbox.push(event(size))) taken++
  t.is(taken, Math.floor(MAX_UNSENT_BYTES / (size + 20)), 'events up to the bound')
  t.false(outbox.push(event(10)), 'a small one too, once one was dropped')
  t.true(outbox.push('![[7,1,3]]'), 'a lock granted later is never dropped')
  t.true(outbox.reply('[[8,1,"v"]]'), 'a reply is never dropped')
  const before = worker.sent.length
  worker.flush()
  t.is(outbox.unsent, 16, 'only the report waits')
  t.deepEqual(worker.sent.map((s) => s.message.p), ['~{"lost":2}'])
  t.is(before, taken + 2)
  worker.flush()
  t.is(outbox.unsent, 0)
  t.true(outbox.push(event(10)), 'events go again')
})

test('one event larger than the bound still goes when nothing waits', (t) => {
  const worker = channel()
  const outbox = new ChannelOutbox(worker)
  t.true(outbox.push(event(MAX_UNSENT_BYTES * 2)))
  t.false(outbox.push(event(10)))
})

test('a closed channel takes nothing and counts nothing', (t) => {
  const worker = channel()
  worker.connected = false
  const outbox = new ChannelOutbox(worker)
  t.false(outbox.reply('[[1,0]]'))
  t.is(outbox.unsent, 0)
})
