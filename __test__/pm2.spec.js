'use strict'

// Under real PM2 (a dev dependency), with a private PM2_HOME per test: the
// instances of one app share one store with no option, in cluster mode and
// in fork mode. Each test stops its own PM2 daemon (pm2 kill, then its PID
// from $PM2_HOME/pm2.pid, if it is still there), whatever happens.

const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const test = require('ava')

const { alive, eventually } = require('./helpers')
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

test('PM2 cluster mode with persist, kill -9 of the hosting instance: in-flight calls fail with a coded error, a new host serves the data of the snapshot and of the shared segment, PM2 restarts the instance', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sharedmemory-pm2-persist-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'app.snap')
  const home = pm2Home(t) // (teardowns run last first: PM2 stops before the directory goes)
  const [port] = await freePorts(1)
  await pm2(home, ['start', APP, '-i', '3', '--name', 'sm-kill'], { PORT: String(port), PERSIST: file, PERSIST_INTERVAL: '300' })
  const started = await instances([port], 3)
  const host = started.find((info) => info.role === 'master')
  t.deepEqual(started.map((info) => info.role).sort(), ['master', 'worker', 'worker'])

  // Data the last snapshot holds: 10 increments, and a value over 16 KiB, which the shared segment
  // does not carry (only its key), so only the snapshot can bring it back.
  checkExact(t, await hits([port], 10), 10)
  await get(port, `/put?key=big&size=${BIG}`)
  await get(port, '/put?key=small')
  await eventually(() => snapshotHas(file, ['"hits"', '"big', '"small"']), `${file} holds hits, big and small`, 60000)
  // Data written after it: certainly in the shared segment, maybe not yet in a snapshot.
  await get(port, '/put?key=after')

  // Requests in flight at the host when it dies: waits for a lock another instance holds.
  await get(port, '/take?key=L')
  const waiters = 12
  const waits = Array.from({ length: waiters }, () => outcome(request(port, '/wait?key=L', { timeoutMs: 60000 })))
  await eventually(async () => (await get(port, '/waiting')).keys.length === waiters, 'every waiter registered', 60000)
  const waitingOn = (await get(port, '/waiting')).keys.map((key) => Number(key.split(':')[1]))
  // And increments going on all the time, each lane on one kept-alive connection, so on one
  // instance: a connection PM2's primary (Node's cluster) is handing to an instance at the moment it
  // dies is kept by the primary and never answered, which is PM2's, not the store's.
  const lanes = await openLanes(port, 3)
  const done = []
  let running = true
  const drive = async (lane) => {
    while (running) {
      const at = Date.now()
      const answer = await outcome(request(port, '/hit', { agent: lane.agent, timeoutMs: 30000 }))
      done.push({ at, end: Date.now(), lane: lane.pid, ...answer })
      if (answer.error || (answer.status === 200 && answer.body.pid !== lane.pid)) break // its instance is gone
    }
    lane.agent.destroy()
  }
  const driving = lanes.map(drive)
  await eventually(() => done.length >= 30, 'increments flowing', 60000)

  const killedAt = Date.now()
  process.kill(host.pid, 'SIGKILL') // an instance this test's PM2 started
  const snapshotAtKill = fs.readFileSync(file)
  await eventually(() => !alive(host.pid), `the host ${host.pid} is gone`, 30000)
  const firstOk = () => done.find((hit) => hit.at >= killedAt && hit.status === 200)
  await eventually(firstOk, 'an increment served after the kill', 60000)
  t.log(`a new host served ${firstOk().end - killedAt} ms after the kill (the first /hit sent after it that succeeded)`)

  // PM2 starts the killed instance again; it joins the new host.
  const after = await instances([port], 3, { except: new Set([host.pid]) })
  running = false
  await Promise.all(driving)

  // Every request was answered (none hit its deadline): a success, a coded error of the host's
  // exit, or, on the killed instance, a reset connection.
  const waited = await Promise.all(waits)
  const coded = (answer) => answer.status === 500 && ['ERR_HOST_EXITED', 'ERR_NO_HOST'].includes(answer.body.error)
  const reset = (answer) => answer.error === 'ECONNRESET'
  const odd = [...waited, ...done].filter((answer) => answer.status !== 200 && !coded(answer) && !reset(answer))
  t.deepEqual(odd, [], 'no other failure, and no request left unanswered')
  const onSurvivors = waitingOn.filter((pid) => pid !== host.pid).length
  t.true(onSurvivors >= 1, `waiters on the surviving instances (${waitingOn})`)
  t.true(waited.filter(coded).length >= 1, `the survivors' waits at the dead host failed with a coded error: ${JSON.stringify(waited)}`)
  t.true(waited.filter(reset).length <= waiters - onSurvivors, 'only waits on the killed instance lost their connection')
  t.log(`waits: ${waited.filter(coded).length} coded errors, ${waited.filter(reset).length} reset (on the killed instance), ` +
    `${waited.filter((answer) => answer.status === 200).length} served; increments: ${done.filter(coded).length} coded errors, ` +
    `${done.filter(reset).length} reset, ${done.filter((hit) => hit.status === 200).length} served`)

  // One host again, not the killed one; the restarted instance is a client of it.
  t.deepEqual(after.map((info) => info.role).sort(), ['master', 'worker', 'worker'])
  const restarted = after.filter((info) => !started.some((before) => before.pid === info.pid))
  t.deepEqual(restarted.map((info) => info.role), ['worker'], 'PM2 restarted the killed instance, as a client')

  // The data: the big value from the snapshot, the rest from the segment (and the snapshot).
  const big = (await get(port, '/read?key=big')).value
  t.true(typeof big === 'string' && big.length === BIG && big.startsWith('big.'), 'the value over 16 KiB, from the snapshot')
  t.is((await get(port, '/read?key=small')).value, 'small')
  t.is((await get(port, '/read?key=after')).value, 'after', 'written after the snapshot: taken over from the shared segment')
  if (!snapshotAtKill.includes('"after"')) t.log('(the last snapshot before the kill did not hold "after": only the segment had it)')
  // No acknowledged increment was lost or counted twice: the new host went on from the old one's count.
  const served = done.filter((hit) => hit.status === 200).map((hit) => hit.body.n)
  t.is(new Set(served).size, served.length, 'no two increments answered the same count')
  const count = (await get(port, '/get')).value
  t.true(count >= 10 + served.length && count <= 10 + done.length, `${count} counts the 10, the ${served.length} acknowledged, at most the ${done.length} sent`)
})

const BIG = 20000 // characters: over the 16 KiB the shared segment carries

/** Whether the snapshot file holds every one of `texts` (keys and values are kept as JSON text). */
function snapshotHas(file, texts) {
  const bytes = fs.readFileSync(file)
  return texts.every((text) => bytes.includes(text))
}

/**
 * Kept-alive connections ({agent, pid}), one agent each, opened until every
 * one of `count` instances has one (PM2's primary hands each new one to an
 * instance in turn).
 */
async function openLanes(port, count) {
  const lanes = []
  while (new Set(lanes.map((lane) => lane.pid)).size < count) {
    if (lanes.length >= 10 * count) throw new Error(`${lanes.length} connections reached only ${JSON.stringify(lanes.map((lane) => lane.pid))}`)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    lanes.push({ agent, pid: (await get(port, '/info', 60000, agent)).pid })
  }
  return lanes
}

/** A request's answer, or {error: its code} when the connection failed or its deadline passed. */
function outcome(pending) {
  return pending.catch((err) => ({ error: err.code || String(err) }))
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
