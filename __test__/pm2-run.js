'use strict'

// Running real PM2 from a test (__test__/pm2.spec.js, __test__/persist.spec.js): a private
// PM2_HOME whose daemon the test's teardown stops (pm2 kill, then by the PID
// in $PM2_HOME/pm2.pid if it is still there), free ports, and requests
// with a deadline.

const { execFile } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const { alive } = require('./helpers')

const PM2 = require.resolve('pm2/bin/pm2')

function pm2(home, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PM2, ...args], { env: { ...process.env, ...env, PM2_HOME: home }, timeout: 120000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`pm2 ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    )
  })
}

/** A private PM2_HOME whose daemon is stopped in teardown. */
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

/** One port nobody listens on. */
async function freePort() {
  return (await freePorts(1))[0]
}

/**
 * One request, on a fresh connection (so PM2's cluster primary spreads them)
 * unless an `agent` is given: {status, body (parsed JSON, else the text),
 * cookie (the name=value of a Set-Cookie, else null)}. Rejects when the
 * connection fails or no answer came within `timeoutMs` (then with code
 * 'ERR_TEST_DEADLINE').
 */
function request(port, route, { method = 'GET', cookie, agent = false, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { cookie } : {}
    const req = http.request({ host: '127.0.0.1', port, path: route, method, headers, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('error', reject)
      res.on('end', () => {
        let body = text
        try {
          body = JSON.parse(text)
        } catch {}
        const setCookie = res.headers['set-cookie']
        resolve({ status: res.statusCode, body, cookie: setCookie ? setCookie[0].split(';')[0] : null })
      })
    })
    req.on('error', reject)
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`${method} ${route}: no answer within ${timeoutMs} ms`)
      err.code = 'ERR_TEST_DEADLINE'
      req.destroy(err)
    })
    req.end()
  })
}

/** One GET (as request()): the JSON body of a 200, else a rejection. */
async function get(port, route, timeoutMs = 60000, agent = false) {
  const { status, body } = await request(port, route, { timeoutMs, agent })
  if (status !== 200) throw new Error(`${route}: ${status} ${JSON.stringify(body)}`)
  return body
}

/**
 * Asks /info on `ports` (one port, or several: one per fork-mode instance)
 * until `count` distinct instances not in `except` (pids) answered; answers them.
 */
async function instances(ports, count, { except = new Set(), deadlineMs = 90000 } = {}) {
  const targets = Array.isArray(ports) ? ports : [ports]
  const seen = new Map()
  const end = Date.now() + deadlineMs
  while (seen.size < count) {
    if (Date.now() > end) throw new Error(`only ${seen.size} of ${count} instances answered: ${JSON.stringify([...seen.values()])}`)
    const answers = await Promise.allSettled(targets.flatMap((port) => Array.from({ length: count * 2 }, () => get(port, '/info'))))
    for (const answer of answers) {
      if (answer.status === 'fulfilled' && !except.has(answer.value.pid)) seen.set(answer.value.pid, answer.value)
    }
    if (seen.size < count) await new Promise((resolve) => setTimeout(resolve, 100)) // the instances are still starting
  }
  return [...seen.values()]
}

module.exports = { pm2, pm2Home, freePort, freePorts, request, get, instances }
