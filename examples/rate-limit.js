'use strict'

// express-rate-limit in three cluster workers, its counts in sharedmemory:
// 5 requests a minute per client for the whole app, whichever worker serves.
//
//   node examples/rate-limit.js --demo    sends 8 requests over the workers, prints the statuses, exits
//   node examples/rate-limit.js           serves on PORT (default 3000) until stopped
//
// A real app writes require('sharedmemory') and require('sharedmemory/rate-limit').

const cluster = require('node:cluster')
const http = require('node:http')

const memory = require('..').init() // require('sharedmemory'): in the master and in every worker
const { RateLimitStore } = require('../rate-limit') // require('sharedmemory/rate-limit')

const demo = process.argv.includes('--demo')

if (cluster.isPrimary) {
  const port = process.env.PORT ?? (demo ? '0' : '3000')
  const workers = [0, 1, 2].map(() => cluster.fork({ PORT: port }))
  Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', (address) => resolve(address.port))))).then(
    async ([listeningOn]) => {
      console.log(`master: 3 workers listening on http://127.0.0.1:${listeningOn}`)
      if (!demo) return
      try {
        for (let i = 1; i <= 8; i++) {
          // A new connection per request: the master hands each to a worker in turn.
          const res = await fetch(`http://127.0.0.1:${listeningOn}/`, { headers: { connection: 'close' } })
          console.log(`request ${i}: ${res.status} (worker ${res.headers.get('x-worker')}, ${res.headers.get('ratelimit-remaining')} left)`)
          await res.arrayBuffer()
        }
        console.log(`hits counted in the store: ${await memory.ns('rate-limit').get('rl:demo')}`)
      } catch (err) {
        console.error(err)
        process.exitCode = 1
      }
      for (const w of workers) w.disconnect()
    },
  )
} else {
  const express = require('express')
  const { rateLimit } = require('express-rate-limit')
  const app = express()
  app.use((req, res, next) => {
    res.set('x-worker', String(cluster.worker.id))
    next()
  })
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: 5,
      standardHeaders: 'draft-6',
      legacyHeaders: false,
      // The demo is one client; a real app keeps the default key (the client's IP).
      keyGenerator: demo ? () => 'demo' : undefined,
      store: new RateLimitStore(), // counts live in memory.ns('rate-limit'), each window a TTL
    }),
  )
  app.get('/', (req, res) => res.send(`hello from worker ${cluster.worker.id}\n`))
  http.createServer(app).listen(Number(process.env.PORT))
}
