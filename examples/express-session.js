'use strict'

// express-session in two cluster workers, with its sessions in sharedmemory:
// whichever worker serves a request sees the session another worker started.
//
//   node examples/express-session.js --demo    runs a scripted visit, prints what it saw, exits
//   node examples/express-session.js           serves on PORT (default 3000) until stopped
//
// A real app writes require('sharedmemory') and require('sharedmemory/session').

const cluster = require('node:cluster')
const http = require('node:http')

const express = require('express')
const session = require('express-session')

const memory = require('..').init() // require('sharedmemory'): in the master and in every worker
const SharedMemoryStore = require('../session') // require('sharedmemory/session')

const demo = process.argv.includes('--demo')
const users = { ada: 'lovelace' } // a real app checks a user database

if (cluster.isPrimary) {
  // Port 0 in the demo: the workers share one free port, which the master hands out.
  const port = process.env.PORT ?? (demo ? '0' : '3000')
  const workers = [cluster.fork({ PORT: port }), cluster.fork({ PORT: port })]
  Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', (address) => resolve(address.port))))).then(
    ([listeningOn]) => {
      console.log(`master: 2 workers listening on http://127.0.0.1:${listeningOn}`)
      if (!demo) return
      visit(listeningOn)
        .catch((err) => {
          console.error(err)
          process.exitCode = 1
        })
        .finally(() => workers.forEach((w) => w.disconnect()))
    },
  )
} else {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(
    session({
      store: new SharedMemoryStore(), // sessions live in memory.ns('sessions'), until their cookie expires
      secret: process.env.SESSION_SECRET ?? 'change me',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 30 * 60 * 1000, httpOnly: true, sameSite: 'lax' },
    }),
  )
  app.use((req, res, next) => {
    res.set('x-worker', String(cluster.worker.id))
    next()
  })

  app.get('/', (req, res) => {
    if (!req.session.user) return res.send(`anonymous (worker ${cluster.worker.id})`)
    req.session.views = (req.session.views ?? 0) + 1
    res.send(`${req.session.user}, visit ${req.session.views} (worker ${cluster.worker.id})`)
  })

  app.post('/login', (req, res, next) => {
    const { user, password } = req.body ?? {}
    if (!user || users[user] !== password) return res.status(401).send('wrong user or password')
    // A new session id at login, against session fixation.
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = user
      req.session.save((err) => (err ? next(err) : res.send(`logged in as ${user} (worker ${cluster.worker.id})`)))
    })
  })

  // A cache beside the sessions, bounded on its own: however busy, it evicts only its own entries,
  // never a login. getOrSet builds a missing report once for all workers.
  const cache = memory.ns('cache', { max: 1000, ttl: 60_000 })
  app.get('/report', (req, res, next) => {
    cache
      .getOrSet('report', async () => ({ builtBy: cluster.worker.id }))
      .then((report) => res.send(`report built by worker ${report.builtBy} (served by worker ${cluster.worker.id})`), next)
  })

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.send(`logged out (worker ${cluster.worker.id})`)))
  })

  app.listen(Number(process.env.PORT), '127.0.0.1')
}

// The scripted visit. Each request opens its own connection, so the master's
// round-robin hands them to the workers in turn.
async function visit(port) {
  const login = await request(port, 'POST', '/login', { body: 'user=ada&password=lovelace' })
  const cookie = login.headers['set-cookie'][0].split(';')[0]
  const loginWorker = login.headers['x-worker']
  console.log(`POST /login -> ${login.status} ${login.text}`)

  let other
  for (let attempt = 0; attempt < 50 && !other; attempt++) {
    const page = await request(port, 'GET', '/', { cookie })
    console.log(`GET / -> ${page.status} ${page.text}`)
    if (page.headers['x-worker'] !== loginWorker) other = page.headers['x-worker']
  }
  if (!other) throw new Error('every request went to the same worker; no cross-worker read was shown')
  console.log(`the session started by worker ${loginWorker} was read by worker ${other}`)

  // The master reaches the same sessions through a store of its own.
  const store = new SharedMemoryStore({ controller: memory })
  const all = await new Promise((resolve, reject) => store.all((err, sessions) => (err ? reject(err) : resolve(sessions))))
  console.log(`master: sessions in the store: ${all.map((s) => `${s.user} (views: ${s.views})`).join(', ')}`)

  for (let i = 0; i < 2; i++) {
    const report = await request(port, 'GET', '/report')
    console.log(`GET /report -> ${report.status} ${report.text}`)
  }

  const logout = await request(port, 'POST', '/logout', { cookie })
  console.log(`POST /logout -> ${logout.status} ${logout.text}`)
  const after = await request(port, 'GET', '/', { cookie })
  console.log(`GET / -> ${after.status} ${after.text}`)
  const left = await new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))
  console.log(`master: sessions left in the store: ${left}`)
}

function request(port, method, path, { cookie, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {}
    if (cookie) headers.cookie = cookie
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
