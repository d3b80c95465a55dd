'use strict'

// How a process maps the host's segment (lib/shared-reads.js), against a
// real store published in this process and served on a real local socket:
// the descriptor passed over the socket (SCM_RIGHTS) when there is one,
// /proc/<pid>/fd/<n> only without.

const crypto = require('node:crypto')
const test = require('ava')

const { normalizeConfig } = require('../../lib/config')
const { HostedStore } = require('../../lib/hosted-store')
const { NOT_READ } = require('../../lib/backend')
const { SharedReads } = require('../../lib/shared-reads')

function published() {
  const store = new HostedStore(normalizeConfig({ sharedReads: true }))
  const socket = store.listen()
  store.applyBatch('[[1,"set","k",{"v":1}]]')
  return { store, socket, segment: store.segment() }
}

test('with a socket, the descriptor comes over it: the announced fd number is not even used', (t) => {
  const { store, socket, segment } = published()
  t.truthy(socket && segment)
  const bogus = { ...segment, fd: 1 << 20 } // no such descriptor: /proc would fail
  t.is(SharedReads.open(bogus), null, 'through /proc it cannot be opened')
  const reads = SharedReads.open(bogus, socket)
  t.truthy(reads, 'over the socket it can')
  t.is(reads.get(null, '"k"'), '{"v":1}')
  reads.close()
  store.stopServing()
})

test('values read back as the text stored: ASCII (as Latin-1) and not (as UTF-8); a key too long for any store goes to the host', (t) => {
  const { store, socket, segment } = published()
  store.applyBatch('[[1,"set","u",{"s":"été ✓ 😀"}],[2,"set","n",{"s":"plain"}]]')
  const reads = SharedReads.open(segment, socket)
  t.is(reads.get(null, '"u"'), '{"s":"été ✓ 😀"}')
  t.is(reads.get(null, '"n"'), '{"s":"plain"}')
  t.is(reads.get(null, '"missing"'), undefined)
  t.is(reads.get(null, JSON.stringify('k'.repeat(70000))), null, 'ask the host')
  t.is(reads.get(null, '"n"'), '{"s":"plain"}', 'and the next read is served again')
  reads.close()
  store.stopServing()
})

test('a wrong token gets no descriptor; without a socket, /proc is the fallback', (t) => {
  const { store, socket, segment } = published()
  const wrong = { name: socket.name, token: crypto.randomBytes(32).toString('hex') }
  t.is(SharedReads.open({ ...segment, fd: 1 << 20 }, wrong), null)
  const reads = SharedReads.open(segment)
  t.is(reads.get(null, '"k"'), '{"v":1}')
  reads.close()
  store.stopServing()
})

test('read(): a string key of any namespace, quoted in Rust, answers the value decoded; a key JSON escapes is left to get()', (t) => {
  const { store, socket, segment } = published()
  store.applyBatch(
    '[[1,"set","s","text"],[2,"set","n",12.5],[3,"set","b",false],[4,"set","z",null],[5,"set","e","a\\"b"],' +
      '[6,"set","é","é"],[7,"set","q\\"","quoted key"],[8,"set","k","in ns",{"ns":"ns"}],[9,"set","k","in n\\"s",{"ns":"n\\"s"}]]',
  )
  const reads = SharedReads.open(segment, socket)
  t.is(reads.read(null, 's'), 'text')
  t.is(reads.read(null, 'n'), 12.5)
  t.is(reads.read(null, 'b'), false)
  t.is(reads.read(null, 'z'), null)
  t.is(reads.read(null, 'e'), 'a"b', 'a string with escapes, through JSON.parse')
  t.deepEqual(reads.read(null, 'k'), { v: 1 })
  t.is(reads.read('ns', 'k'), 'in ns')
  t.is(reads.read('n"s', 'k'), NOT_READ, 'a namespace name with a quote: get() too')
  t.is(reads.get('n"s', '"k"'), '"in n\\"s"')
  t.is(reads.read(null, 'é'), 'é')
  t.is(reads.read(null, 'missing'), undefined)
  t.is(reads.read(null, 'q"'), NOT_READ, 'a key with a quote: get() quotes it with JSON.stringify')
  t.is(reads.get(null, JSON.stringify('q"')), '"quoted key"')
  t.is(reads.read(null, 'lone \ud800'), NOT_READ)
  t.is(reads.read(null, 'k'.repeat(70000)), NOT_READ, 'longer than any stored key: the host answers')
  reads.close()
  t.is(reads.read(null, 's'), NOT_READ, 'closed: nothing is read')
  store.stopServing()
})

test('read() of an object answers a fresh copy of what it parsed while the entry is unchanged, and the new value at once after any change', (t) => {
  const { store, socket, segment } = published()
  store.applyBatch('[[1,"set","o",{"n":1,"list":[1,2]}],[2,"set","o",{"n":1},{"ns":"ns"}]]')
  const reads = SharedReads.open(segment, socket)
  const first = reads.read(null, 'o')
  t.deepEqual(first, { n: 1, list: [1, 2] })
  first.n = 99
  first.list.push(3)
  const second = reads.read(null, 'o')
  t.deepEqual(second, { n: 1, list: [1, 2] }, 'what a caller did to its copy is not seen')
  t.not(second, first)
  t.deepEqual(reads.read('ns', 'o'), { n: 1 }, 'another namespace, another entry')
  store.applyBatch('[[3,"set","o",{"n":1,"list":[1,2]}]]')
  t.deepEqual(reads.read(null, 'o'), { n: 1, list: [1, 2] }, 'the same value written again reads back the same')
  store.applyBatch('[[4,"set","o",{"n":2,"list":[]}]]')
  t.deepEqual(reads.read(null, 'o'), { n: 2, list: [] }, 'a new value is read at once')
  store.applyBatch('[[5,"set","o","now a string"]]')
  t.is(reads.read(null, 'o'), 'now a string')
  store.applyBatch('[[6,"set","o",[{"a":1}]],[7,"del","o",0]]')
  t.is(reads.read(null, 'o'), undefined, 'removed')
  store.applyBatch('[[8,"set","o",[{"a":1}]]]')
  t.deepEqual(reads.read(null, 'o'), [{ a: 1 }])
  t.deepEqual(reads.read(null, 'o'), [{ a: 1 }])
  const report = JSON.parse(reads.takeUses().arg)
  t.deepEqual(report.counts, [[null, 7, 1], ['ns', 1, 0]], 'every read counts as a hit or a miss, as without the cache')
  t.true(report.slots.length >= 2, 'and each entry read as a use')
  reads.close()
  store.stopServing()
})
