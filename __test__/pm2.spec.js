'use strict'

// Under real PM2 (a dev dependency), with a private PM2_HOME per test: the
// instances of one app share one store with no option, in cluster mode and
// in fork mode. Each test stops its own PM2 daemon (pm2 kill, then its PID
// from $PM2_HOME/pm2.pid, if it is still there), whatever happens.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')

const { pm2, pm2Home, freePorts, get, instances } = require('./pm2-run')

const APP = path.join(__dirname, 'fixtures', 'pm2-app.js')

/** `total` concurrent /hit requests spread over `ports`; answers them. */
function hits(ports, total) {
  return Promise.all(Array.from({ length: total }, (_, i) => get(ports[i % ports.length], '/hit')))
}

function checkExact(t, answers, total) {
  t.deepEqual(
    answers.map((answer) => answer.n).sort((a, b) => a - b),
    Array.from({ length: total }, (_, i) => i + 1),
    'every increment counted once, by one shared counter',
  )
}

test('PM2 cluster mode, pm2 start app.js -i 3: concurrent HTTP requests on all instances keep one exact counter', async (t) => {
  const home = pm2Home(t)
  const [port] = await freePorts(1)
  await pm2(home, ['start', APP, '-i', '3', '--name', 'sm-cluster'], { PORT: String(port) })
  const started = await instances([port], 3)
  t.deepEqual(started.map((info) => info.execMode), ['cluster_mode', 'cluster_mode', 'cluster_mode'])
  t.deepEqual(started.map((info) => info.role).sort(), ['master', 'worker', 'worker'], 'one instance hosts, elected')
  const total = 300
  const answers = await hits([port], total)
  checkExact(t, answers, total)
  t.is(new Set(answers.map((answer) => answer.pid)).size, 3, 'the requests landed on all 3 instances')
  t.is((await get(port, '/get')).value, total)
})

test('PM2 fork mode, 2 instances of one app (ecosystem file): they share one store', async (t) => {
  const home = pm2Home(t)
  const ports = await freePorts(2) // one per instance (PORTS, by NODE_APP_INSTANCE)
  const ecosystem = path.join(home, 'ecosystem.config.js')
  fs.writeFileSync(
    ecosystem,
    `module.exports = { apps: [{ name: 'sm-fork', script: ${JSON.stringify(APP)}, exec_mode: 'fork', instances: 2, ` +
      `env: { PORTS: '${ports.join(',')}' } }] }\n`,
  )
  await pm2(home, ['start', ecosystem])
  const started = await instances(ports, 2)
  t.deepEqual(started.map((info) => info.execMode), ['fork_mode', 'fork_mode'])
  t.deepEqual(started.map((info) => info.role).sort(), ['master', 'worker'])
  const total = 200
  const answers = await hits(ports, total)
  checkExact(t, answers, total)
  t.is(new Set(answers.map((answer) => answer.pid)).size, 2)
  t.deepEqual([(await get(ports[0], '/get')).value, (await get(ports[1], '/get')).value], [total, total])
})

test('PM2 fork mode, 1 instance running its own cluster of 2 workers: the workers share the store of the elected instance', async (t) => {
  const home = pm2Home(t)
  const [port] = await freePorts(1)
  await pm2(home, ['start', APP, '--name', 'sm-own-cluster'], { PORT: String(port), OWN_CLUSTER: '2' })
  const started = await instances([port], 2)
  t.deepEqual(started.map((info) => [info.execMode, info.role, info.transport]), [
    ['fork_mode', 'worker', 'socket'],
    ['fork_mode', 'worker', 'socket'],
  ])
  const total = 200
  const answers = await hits([port], total)
  checkExact(t, answers, total)
  t.is(new Set(answers.map((answer) => answer.pid)).size, 2)
})
