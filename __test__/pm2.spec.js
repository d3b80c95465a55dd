'use strict'

// Under real PM2 (a dev dependency), with a private PM2_HOME per test: the
// instances of one app share one store with no option, in cluster mode and
// in fork mode. Each test stops its own PM2 daemon (pm2 kill, then its PID
// from $PM2_HOME/pm2.pid, if it is still there), whatever happens.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')

const { pm2, pm2Home, freePorts, request, get, instances } = require('./pm2-run')

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

test('PM2 cluster mode, pm2 start app.js -i 3: concurrent HTTP requests on all instances keep one exact counter and one express-session login', async (t) => {
  const home = pm2Home(t)
  const [port] = await freePorts(1)
  await pm2(home, ['start', APP, '-i', '3', '--name', 'sm-cluster'], { PORT: String(port) })
  const started = await instances([port], 3)
  t.deepEqual(started.map((info) => info.execMode), ['cluster_mode', 'cluster_mode', 'cluster_mode'])
  t.deepEqual(started.map((info) => info.role).sort(), ['master', 'worker', 'worker'], 'one instance hosts, elected')

  // One login, on whichever instance PM2 hands it to.
  const login = await request(port, '/login?user=ada', { method: 'POST' })
  t.is(login.status, 200, JSON.stringify(login.body))
  t.truthy(login.cookie, 'the login set the session cookie')
  const cookie = login.cookie

  // Then increments and reads of the session at once, each on a fresh connection.
  const total = 300
  const [answers, seen] = await Promise.all([hits([port], total), sessionsSeen(port, cookie, 90)])
  checkExact(t, answers, total)
  t.is(new Set(answers.map((answer) => answer.pid)).size, 3, 'the requests landed on all 3 instances')
  t.is((await get(port, '/get')).value, total)
  t.deepEqual([...new Set(seen.map((me) => `${me.user} ${me.sid}`))], [`ada ${login.body.sid}`], 'every instance sees the one login')
  t.is(new Set(seen.map((me) => me.pid)).size, 3, 'the session was read on all 3 instances')

  // Logging out on one instance ends the session on all of them.
  const logout = await request(port, '/logout', { method: 'POST', cookie })
  t.deepEqual([logout.status, logout.body.loggedOut], [200, true])
  const after = await sessionsSeen(port, cookie, 60)
  t.deepEqual([...new Set(after.map((me) => me.user))], [null], 'nobody is logged in any more, on any instance')
  const others = new Set(after.map((me) => me.pid).filter((pid) => pid !== logout.body.pid))
  t.is(others.size, 2, 'the 2 instances that did not serve the logout saw it')
})

/** `count` concurrent GET /me with the session cookie, on fresh connections; answers their bodies. */
async function sessionsSeen(port, cookie, count) {
  const answers = await Promise.all(Array.from({ length: count }, () => request(port, '/me', { cookie })))
  for (const answer of answers) if (answer.status !== 200) throw new Error(`/me: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answers.map((answer) => answer.body)
}

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
