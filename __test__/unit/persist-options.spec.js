'use strict'

// The persist and host options, and sharedmemory-host's command line, as
// init() and the bin read them (in this process; the behaviour itself is
// tested on real processes in __test__/persist.spec.js).

const path = require('node:path')
const test = require('ava')

const { normalizeConfig } = require('../../lib/config')
const { parseHostArgs, UsageError } = require('../../lib/host-cli')

test('persist: a path, or {path, interval}; the path made absolute, the interval 1000 by default', (t) => {
  t.deepEqual(normalizeConfig({ persist: 'store.snap' }).persist, { path: path.resolve('store.snap'), interval: 1000 })
  t.deepEqual(normalizeConfig({ persist: { path: '/tmp/s', interval: 250 } }).persist, { path: '/tmp/s', interval: 250 })
  t.is(normalizeConfig({}).persist, null)
  t.is(normalizeConfig({}).host, 'auto')
})

test('bad persist and host options throw ERR_INVALID_CONFIG', (t) => {
  for (const config of [
    { persist: 5 },
    { persist: '' },
    { persist: { interval: 100 } },
    { persist: { path: 'x', interval: 0 } },
    { persist: { path: 'x', every: 100 } },
    { persist: 'a\0b' },
    { host: 'self' },
    { name: 'n', host: 'external', persist: 'x' },
  ]) {
    t.is(t.throws(() => normalizeConfig(config)).code, 'ERR_INVALID_CONFIG', JSON.stringify(config))
  }
})

test("host: 'external' without a store found by name is refused at init()", (t) => {
  const { init } = require('../..')
  t.is(t.throws(() => init({ host: 'external' })).code, 'ERR_INVALID_CONFIG')
})

test('sharedmemory-host: its command line becomes the init() config', (t) => {
  t.deepEqual(parseHostArgs(['--name', 'app']).config, { name: 'app' })
  t.deepEqual(parseHostArgs(['--name', 'app', '--persist', 's.snap', '--interval', '200', '--max', '5', '--no-shared-reads']).config, {
    name: 'app',
    cache: { type: 'LRU', max: 5 },
    sharedReads: false,
    persist: { path: 's.snap', interval: 200 },
  })
  t.deepEqual(parseHostArgs(['--name', 'a', '--expire', '60000', '--max-bytes', '1000']).config.cache, {
    type: 'expire',
    expire: 60000,
    maxBytes: 1000,
  })
  t.true(parseHostArgs(['--help']).help)
  for (const argv of [[], ['--name'], ['--name', 'a', '--max', '-1'], ['--name', 'a', '--interval', '5'], ['--name', 'a', '--nope']]) {
    t.throws(() => parseHostArgs(argv), { instanceOf: UsageError }, argv.join(' '))
  }
  // What the bin builds is a config init() accepts.
  t.notThrows(() => normalizeConfig(parseHostArgs(['--name', 'a', '--persist', 's', '--max-bytes', '10']).config))
})
