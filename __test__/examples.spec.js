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
