'use strict'

// The `name` option, PM2 detection and the socket name of a store found by name, in one process.

const test = require('ava')

const { normalizeConfig } = require('../../lib/config')
const { socketNameOf } = require('../../lib/election')
const { pm2StoreKey } = require('../../lib/pm2')

test('name: a non-empty string; not with manager, nor with transport ipc', (t) => {
  t.is(normalizeConfig({ name: 'app' }).name, 'app')
  t.is(normalizeConfig({}).name, null)
  for (const name of ['', 5, {}, 'x'.repeat(1025)]) t.throws(() => normalizeConfig({ name }), { code: 'ERR_INVALID_CONFIG' })
  t.throws(() => normalizeConfig({ name: 'app', manager: 1 }), { code: 'ERR_INVALID_CONFIG', message: /manager/ })
  t.throws(() => normalizeConfig({ name: 'app', transport: 'ipc' }), { code: 'ERR_INVALID_CONFIG', message: /ipc/ })
})

test('PM2: an instance is named by (PM2_HOME, namespace, app); a worker of its own cluster is not an instance', (t) => {
  const env = { pm_id: '3', name: 'api', exec_mode: 'cluster_mode', PM2_HOME: '/srv/pm2', namespace: 'prod' }
  t.deepEqual(pm2StoreKey(env, true), ['pm2', '/srv/pm2', 'prod', 'api'])
  t.deepEqual(pm2StoreKey({ ...env, exec_mode: 'fork_mode' }, false), ['pm2', '/srv/pm2', 'prod', 'api'])
  t.is(pm2StoreKey({ ...env, exec_mode: 'fork_mode' }, true), null, "a cluster worker of a fork-mode app joins its own master")
  t.is(pm2StoreKey({ name: 'api' }, false), null, 'not under PM2')
  t.deepEqual(pm2StoreKey({ pm_id: '0', name: 'api' }, false).slice(2), ['default', 'api'])
})

test('socket names: one per store and user, apart for names and PM2 apps', (t) => {
  const a = socketNameOf(['name', 'app'])
  t.is(a, socketNameOf(['name', 'app']))
  t.regex(a, new RegExp(`^sharedmemory/${process.geteuid()}/[0-9a-f]{32}$`))
  t.not(a, socketNameOf(['name', 'app2']))
  t.not(a, socketNameOf(['pm2', '/root/.pm2', 'default', 'app']))
})
