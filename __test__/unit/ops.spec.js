'use strict'

// The op flags table (lib/ops.js) against the batch format it describes,
// and the small pieces around the backend seam: capabilities, the
// handshake's retry.

const fs = require('node:fs')
const path = require('node:path')

const test = require('ava')

const { CAPABILITIES, capabilities } = require('../../lib/backend')
const { keepAsking, announcement } = require('../../lib/handshake')
const { OPS, Request } = require('../../lib/ops')
const { keepAlive } = require('./fake-backend')

/** The ops of the table in src/protocol.rs's doc comment. */
function protocolOps() {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'protocol.rs'), 'utf8')
  return [...text.matchAll(/^\/\/! \| `"(\w+)"`/gm)].map((match) => match[1])
}

test('OPS has flags for exactly the ops of the batch format', (t) => {
  const ops = protocolOps()
  t.true(ops.length >= 20)
  t.deepEqual(Object.keys(OPS).sort(), [...ops].sort())
})

test('read-only ops are the reads; the ones that count as a use are flagged; locks may wait', (t) => {
  const readOnly = Object.keys(OPS).filter((op) => OPS[op].readOnly)
  t.deepEqual(readOnly.sort(), ['get', 'has', 'keys', 'mget', 'size', 'stats', 'ttl', 'used'])
  const touches = Object.keys(OPS).filter((op) => OPS[op].touches)
  t.deepEqual(touches.sort(), ['get', 'mget'])
  t.true(touches.every((op) => OPS[op].readOnly))
  t.deepEqual(Object.keys(OPS).filter((op) => OPS[op].mayWait), ['lock'])
  t.deepEqual(Object.keys(OPS).filter((op) => OPS[op].owned).sort(), ['extend', 'lock', 'unlock', 'unwatch', 'watch'])
  t.true(Object.isFrozen(OPS) && Object.isFrozen(OPS.get))
})

test('a Request says whether it only reads', (t) => {
  t.true(new Request('get', null, '"k"', '0').readOnly)
  t.false(new Request('set', 'ns', '"k"', '1', { ttl: 5 }).readOnly)
})

test('capabilities(): every name, booleans only, frozen; unknown names are refused', (t) => {
  const caps = capabilities({ sync: true, lruByCount: false })
  t.deepEqual(Object.keys(caps).sort(), Object.keys(CAPABILITIES).sort())
  t.true(caps.sync)
  t.false(caps.watchValues)
  t.true(Object.isFrozen(caps))
  t.throws(() => capabilities({ teleport: true }), { instanceOf: TypeError })
})

test('announcement(): limits, and the socket only when there is one', (t) => {
  t.deepEqual(announcement({ maxValueSize: 5, serialization: 'json' }, null), { maxValueSize: 5, serialization: 'json' })
  const socket = { name: 'n', token: 't' }
  t.deepEqual(announcement({ maxValueSize: 5, serialization: 'json', other: 1 }, socket), { maxValueSize: 5, serialization: 'json', socket })
})

test('keepAsking(): asks at once, then along the ladder, until answered or stopped', async (t) => {
  keepAlive(t)
  let asked = 0
  await new Promise((resolve) => {
    keepAsking([1, 2], () => {
      asked++
      if (asked < 4) return true
      resolve()
      return false
    })
  })
  t.is(asked, 4)
  let stoppedAsks = 0
  const stop = keepAsking([5], () => ++stoppedAsks > 0)
  t.is(stoppedAsks, 1, 'the first ask is synchronous')
  stop()
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.is(stoppedAsks, 1)
})
