'use strict'

const path = require('node:path')

const test = require('ava')

const { run } = require('./helpers')

const example = (name) => path.join(__dirname, '..', 'examples', name)

test('examples/basic.js: worker 2 reads what worker 1 stored, then removes it', async (t) => {
  const { stdout, code } = await run(example('basic.js'))
  t.is(code, 0)
  t.deepEqual(stdout.trim().split('\n'), [
    "worker 1: set('a', [0, 1, 2, 3]) -> OK",
    "worker 2: get('a') -> [ 0, 1, 2, 3 ]",
    "worker 2: remove('a') -> OK",
    "master: both workers are done; 'a' is now gone",
  ])
})

test('examples/express-login.js: a session stored by one worker is seen by the other over real HTTP', async (t) => {
  const { stdout, code } = await run(example('express-login.js'), ['--demo'], { env: { PORT: '0' } })
  t.is(code, 0, stdout)
  const lines = stdout.trim().split('\n')
  t.regex(lines[0], /^master: 2 workers listening on http:\/\/127\.0\.0\.1:\d+$/)
  t.is(lines[1], 'GET /admin/dashboard without a session -> 302 /login')
  t.regex(lines[2], /^POST \/api\/checkLogin -> 200 ok \(worker (\d)\)$/)
  t.regex(lines[3], /^GET \/admin\/dashboard with the session -> 200 has login \(worker \d\)$/)
  const [, stored, seen] = lines[4].match(/^the session stored by worker (\d) was seen by worker (\d)$/)
  t.not(stored, seen)
})

test('examples/rate-limit.js: one limit of 5 for the app, over requests served by several workers', async (t) => {
  const { stdout, code } = await run(example('rate-limit.js'), ['--demo'], { env: { PORT: '0' } })
  t.is(code, 0, stdout)
  const lines = stdout.trim().split('\n')
  const requests = lines.slice(1, 9).map((line) => line.match(/^request \d: (\d+) \(worker (\d), (\d) left\)$/))
  t.deepEqual(requests.map((m) => Number(m[1])), [200, 200, 200, 200, 200, 429, 429, 429], stdout)
  t.deepEqual(requests.slice(0, 5).map((m) => Number(m[3])), [4, 3, 2, 1, 0])
  t.true(new Set(requests.map((m) => m[2])).size > 1, `served by more than one worker: ${stdout}`)
  t.is(lines[9], 'hits counted in the store: 8')
})
