'use strict'

// A login app in two cluster workers sharing their sessions through
// sharedmemory, as in the 0.0.7 example: a session stored by the worker
// that handled the login is seen by the worker that handles the next page.
//
//   npm run example:express           runs a scripted visit and exits
//   node examples/express-login.js    serves on PORT (default 3000) until stopped
//
// Unlike 0.0.7's example, the cookie holds a random session key, not the
// user name, so it cannot be forged by guessing names.

const cluster = require('node:cluster')
const crypto = require('node:crypto')

const express = require('express')

const memory = require('..').init({ cache: { type: 'expire', expire: 30 * 60 * 1000 } }) // require('sharedmemory')

const demo = process.argv.includes('--demo')
const users = { test: 'secret' } // a real app checks a user database

if (cluster.isPrimary) {
  const port = process.env.PORT ?? (demo ? '0' : '3000')
  const workers = [cluster.fork({ PORT: port }), cluster.fork({ PORT: port })]
  Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', (address) => resolve(address.port))))).then(
    ([listeningOn]) => {
      console.log(`master: 2 workers listening on http://127.0.0.1:${listeningOn}`)
      if (demo) visit(listeningOn).finally(() => workers.forEach((w) => w.disconnect()))
    },
  )
} else {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use((req, res, next) => {
    res.set('x-worker', String(cluster.worker.id))
    next()
  })

  // Pages under /admin need a session some worker stored.
  app.all('/admin/:route', (req, res, next) => {
    const sessionKey = readCookie(req, 'sessionKey')
    if (!sessionKey) return res.redirect('/login')
    memory.get(`session:${sessionKey}`).then((session) => (session ? next() : res.redirect('/login')), next)
  })
  app.all('/admin/:route', (req, res) => res.send(`has login (worker ${cluster.worker.id})`))

  app.get('/login', (req, res) => res.send('<form method="post" action="/api/checkLogin">user, password</form>'))

  app.post('/api/checkLogin', (req, res, next) => {
    const { user, password } = req.body ?? {}
    if (!user || users[user] !== password) return res.status(401).send('failed')
    const sessionKey = crypto.randomBytes(16).toString('hex')
    memory.set(`session:${sessionKey}`, { user, state: 'hasLogin' }).then(() => {
      res.cookie('sessionKey', sessionKey, { httpOnly: true, sameSite: 'lax' })
      res.send('ok')
    }, next)
  })

  app.listen(Number(process.env.PORT), '127.0.0.1')
}

function readCookie(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return decodeURIComponent(value.join('='))
  }
  return undefined
}

// The scripted visit: log in on one worker, then open an admin page until
// another worker serves it. Each request uses a new connection, so the
// master's round-robin hands them to the workers in turn.
async function visit(port) {
  const base = `http://127.0.0.1:${port}`
  const call = (path, init = {}) => fetch(base + path, { redirect: 'manual', keepalive: false, ...init })

  const anonymous = await call('/admin/dashboard')
  console.log(`GET /admin/dashboard without a session -> ${anonymous.status} ${anonymous.headers.get('location')}`)

  const login = await call('/api/checkLogin', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'user=test&password=secret',
  })
  const loginWorker = login.headers.get('x-worker')
  const cookie = login.headers.get('set-cookie').split(';')[0]
  console.log(`POST /api/checkLogin -> ${login.status} ${await login.text()} (worker ${loginWorker})`)

  for (let attempt = 0; attempt < 50; attempt++) {
    const page = await call('/admin/dashboard', { headers: { cookie } })
    const worker = page.headers.get('x-worker')
    if (worker !== loginWorker) {
      console.log(`GET /admin/dashboard with the session -> ${page.status} ${await page.text()}`)
      console.log(`the session stored by worker ${loginWorker} was seen by worker ${worker}`)
      return
    }
    await page.arrayBuffer()
  }
  console.log('every request went to the same worker; no cross-worker read was shown')
  process.exitCode = 1
}
