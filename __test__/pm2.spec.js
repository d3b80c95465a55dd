'use strict'

// Under real PM2 (a dev dependency), with a private PM2_HOME per test: the
// instances of one app share one store with no option, in cluster mode and
// in fork mode. Each test stops its own PM2 daemon (pm2 kill, then its PID
// from $PM2_HOME/pm2.pid, if it is still there), whatever happens.

const { execFile } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const test = require('ava')

const { alive } = require('./helpers')

const PM2 = require.resolve('pm2/bin/pm2')
const APP = path.join(__dirname, 'fixtures', 'pm2-app.js')

function pm2(home, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PM2, ...args], { env: { ...process.env, ...env, PM2_HOME: home }, timeout: 120000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`pm2 ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    )
  })
}

/** A private PM2_HOME whose daemon is stopped in teardown: pm2 kill, then by its PID if it is still there. */
function pm2Home(t) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sharedmemory-pm2-'))
  t.teardown(async () => {
    let daemon = null
    try {
      daemon = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8'))
    } catch {}
    if (daemon || fs.existsSync(path.join(home, 'rpc.sock'))) await pm2(home, ['kill']).catch(() => {})
    if (daemon && alive(daemon)) process.kill(daemon, 'SIGKILL')
    for (let i = 0; daemon && alive(daemon) && i < 1000; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    if (daemon && alive(daemon)) throw new Error(`the PM2 daemon ${daemon} of ${home} is still there`)
    fs.rmSync(home, { recursive: true, force: true })
  })
  return home
}

/** Ports nobody listens on: each taken from the kernel, then given back. */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => resolve(server))
    })),
  )
  const ports = servers.map((server) => server.address().port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

/** One GET on a fresh connection (so PM2's cluster primary spreads them among instances). */
function get(port, route) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: route, agent: false }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${route}: ${res.statusCode} ${body}`))))
    })
    req.on('error', reject)
  })
}

/** Asks /info on `ports` until `count` distinct instances have answered; answers them. */
async function instances(ports, count, deadlineMs = 90000) {
  const seen = new Map()
  const end = Date.now() + deadlineMs
  while (seen.size < count) {
    if (Date.now() > end) throw new Error(`only ${seen.size} of ${count} instances answered: ${JSON.stringify([...seen.values()])}`)
    const answers = await Promise.allSettled(ports.flatMap((port) => Array.from({ length: count }, () => get(port, '/info'))))
    for (const answer of answers) if (answer.status === 'fulfilled') seen.set(answer.value.pid, answer.value)
    if (seen.size < count) await new Promise((resolve) => setTimeout(resolve, 100)) // the instances are still starting
  }
  return [...seen.values()]
}

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
