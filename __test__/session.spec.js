'use strict'

// sharedmemory/session: the express-session store. The cluster scenario is
// __test__/fixtures/session.js (two workers serving an Express app on their
// own ports, the master as the HTTP client); it runs over both transports.

const path = require('node:path')

const test = require('ava')

const { run, runFixture } = require('./helpers')

const root = path.join(__dirname, '..')
const HOUR = 60 * 60 * 1000

const between = (t, record, low, high, what) => {
  t.is(typeof record.value, 'number', `${what}: ${JSON.stringify(record)}`)
  t.true(record.value > low && record.value <= high, `${what}: ${record.value} not in (${low}, ${high}]`)
}

for (const transport of ['socket', 'ipc']) {
  test(`over ${transport}: a session started on one worker is seen, touched, expired and ended on the other`, async (t) => {
    const { result } = await runFixture('session.js', [], { env: { SM_TRANSPORT: transport }, deadlineMs: 170000 })
    const s = result.steps
    t.deepEqual(result.transports, [transport, transport])

    // Without a cookie: no user, nothing stored.
    t.like(s.anonymous, { status: 200, body: { user: null }, cookie: null })
    t.deepEqual(s.anonymousLength, { value: 0 })

    // Logged in on one worker, seen by the other: two different processes.
    t.like(s.login, { status: 200, body: { user: 'ada' } }, JSON.stringify(s.login))
    t.regex(s.login.cookie, /^sid=s%3A/)
    t.like(s.meOnTwo, { status: 200, body: { user: 'ada', sid: s.login.body.sid } })
    t.not(s.meOnTwo.body.worker, s.login.body.worker)
    t.not(s.meOnTwo.body.pid, s.login.body.pid)
    t.like(s.meOnOne, { status: 200, body: { user: 'ada', worker: s.login.body.worker } })
    // The TTL follows the cookie's maxAge (an hour).
    between(t, s.adaTtl, HOUR - 60000, HOUR, 'ttl of the session')
    // express-session's Store#load, inherited, builds a Session with a Cookie.
    t.deepEqual(s.load, { value: { user: 'ada', isCookie: true, maxAgeIsNumber: true } })

    // A request that leaves the session unchanged re-arms its TTL (Store#touch).
    t.deepEqual(s.shortened, { value: true })
    t.like(s.touchRequest, { status: 200, body: { user: 'ada' } })
    between(t, s.ttlAfterTouch, HOUR - 60000, HOUR, 'ttl after touch')

    // A session whose cookie lives 2500 ms: stored with that TTL, seen elsewhere, then gone.
    t.like(s.shortLogin, { status: 200, body: { user: 'bob' } })
    between(t, s.shortTtl, 0, 2500, 'ttl of the short session')
    t.like(s.shortSeenOnOne, { status: 200, body: { user: 'bob' } })
    t.not(s.shortSeenOnOne.body.worker, s.shortLogin.body.worker)

    // all and length, from a worker and from the master.
    t.like(s.adminOnOne, { status: 200, body: { length: 2, users: ['ada', 'bob'] } })
    t.deepEqual(s.allInMaster, { value: ['ada', 'bob'] })

    t.true(s.shortGone, 'the short session did not leave the store within 30 s')
    t.true(s.shortGoneAfterMs >= 2450, `the short session left after ${s.shortGoneAfterMs} ms, before its cookie expired`)
    t.like(s.shortAfterExpiry, { status: 200, body: { user: null } })

    // Logout on one worker ends the session for all of them.
    t.like(s.logout, { status: 200, body: { loggedOut: true } })
    t.not(s.logout.body.worker, s.afterLogoutOnOne.body.worker)
    t.like(s.afterLogoutOnOne, { status: 200, body: { user: null } })
    t.deepEqual(s.afterLogoutHas, { value: false })
    t.deepEqual(s.lengthAfterLogout, { value: 0 })

    // clear removes the sessions, and only them.
    t.like(s.beforeClear, { status: 200, body: { length: 2, users: ['cleo', 'dan'] } })
    t.like(s.clear, { status: 200, body: { cleared: true } })
    t.like(s.afterClear, { status: 200, body: { length: 0, users: [] } })
    t.is(s.cleoAfterClear, null)
    t.is(s.danAfterClear, null)
    t.deepEqual(s.unrelatedKept, { value: 'kept' })
    t.deepEqual(s.otherKept, { value: 'eve' })

    // The store's own rules.
    between(t, s.defaultTtl, 0, 12345, 'ttl option when the cookie has no expiry')
    t.deepEqual(s.disabledTouch, { undefined: true })
    between(t, s.ttlAfterDisabledTouch, 0, 3000, 'ttl after touch with disableTouch')
    t.deepEqual(s.expiredSet, { undefined: true })
    t.deepEqual(s.expiredSetHas, { value: false })
    between(t, s.datedTtl, 0, 4000, 'ttl from cookie.expires (wins over maxAge)')
    between(t, s.agedTtl, 0, 7000, 'ttl from cookie.maxAge')
    t.deepEqual(s.touchMissing, { undefined: true })
    t.deepEqual(s.getMissingArgs, ['null', 'undefined'])
    t.like(s.badSid, { error: 'ERR_INVALID_KEY', name: 'TypeError' })
    t.true(s.callbackAsync)

    // Servers closed and workers disconnected: they exited by themselves.
    t.deepEqual(result.workerExits, [0, 0])
  })
}

test("require('sharedmemory/session') and require('sharedmemory') resolve through the exports map", async (t) => {
  // A require from inside the package, which can require itself by name.
  const script = `
    const require = module.constructor.createRequire(${JSON.stringify(path.join(root, 'anywhere.js'))})
    const store = require('sharedmemory/session')
    const session = require('express-session')
    console.log(JSON.stringify({
      main: require.resolve('sharedmemory'),
      session: require.resolve('sharedmemory/session'),
      pkg: require('sharedmemory/package.json').name,
      extendsStore: store.prototype instanceof session.Store,
      named: store.SharedMemoryStore === store,
      helpers: ['regenerate', 'load', 'createSession'].every((m) => typeof store.prototype[m] === 'function'),
      namespace: new store().namespace,
    }))
  `
  const { stdout, stderr, code } = await run('-e', [script])
  t.is(code, 0, stderr)
  t.deepEqual(JSON.parse(stdout), {
    main: path.join(root, 'index.js'),
    session: path.join(root, 'session.js'),
    pkg: 'sharedmemory',
    extendsStore: true,
    named: true,
    helpers: true,
    namespace: 'sessions',
  })
})

test('without express-session, requiring the store says what to install', async (t) => {
  // Hide express-session from the resolver, as in an app that did not install it.
  const script = `
    const Module = require('node:module')
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'express-session') {
        const err = new Error("Cannot find module 'express-session'")
        err.code = 'MODULE_NOT_FOUND'
        throw err
      }
      return resolve.call(this, request, ...rest)
    }
    try {
      require(${JSON.stringify(path.join(root, 'session.js'))})
      console.log('no error')
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, message: err.message }))
    }
  `
  const { stdout, code } = await run('-e', [script])
  t.is(code, 0)
  const { code: errorCode, message } = JSON.parse(stdout)
  t.is(errorCode, 'MODULE_NOT_FOUND')
  t.regex(message, /sharedmemory\/session needs express-session.*npm install express-session/)
})

test('bad options are refused when the store is created', async (t) => {
  const script = `
    const SharedMemoryStore = require(${JSON.stringify(path.join(root, 'session.js'))})
    const out = {}
    for (const [name, options] of Object.entries({
      ttl: { ttl: -1 }, ttlString: { ttl: '1d' }, namespace: { namespace: '' }, controller: { controller: {} }, notObject: 5,
    })) {
      try { new SharedMemoryStore(options); out[name] = 'no error' } catch (err) { out[name] = err.code }
    }
    console.log(JSON.stringify(out))
  `
  const { stdout, stderr, code } = await run('-e', [script])
  t.is(code, 0, stderr)
  t.deepEqual(JSON.parse(stdout), {
    ttl: 'ERR_INVALID_ARGUMENT',
    ttlString: 'ERR_INVALID_ARGUMENT',
    namespace: 'ERR_INVALID_ARGUMENT',
    controller: 'ERR_INVALID_ARGUMENT',
    notObject: 'ERR_INVALID_ARGUMENT',
  })
})

test('examples/express-session.js --demo: a session started by one worker is read by the other, then ended', async (t) => {
  const { stdout, stderr, code } = await run(path.join(root, 'examples', 'express-session.js'), ['--demo'], { env: { PORT: '0' } })
  t.is(code, 0, stdout + stderr)
  const lines = stdout.trim().split('\n')
  t.regex(lines[0], /^master: 2 workers listening on http:\/\/127\.0\.0\.1:\d+$/)
  const [, loginWorker] = lines[1].match(/^POST \/login -> 200 logged in as ada \(worker (\d)\)$/)
  const [, stored, read] = lines.find((l) => l.startsWith('the session')).match(/^the session started by worker (\d) was read by worker (\d)$/)
  t.is(stored, loginWorker)
  t.not(read, stored)
  t.true(lines.some((l) => new RegExp(`^GET / -> 200 ada, visit \\d+ \\(worker ${read}\\)$`).test(l)), stdout)
  t.true(lines.some((l) => /^master: sessions in the store: ada \(views: \d+\)$/.test(l)), stdout)
  const reports = lines.filter((l) => l.startsWith('GET /report')).map((l) => l.match(/^GET \/report -> 200 report built by worker (\d) \(served by worker (\d)\)$/))
  t.is(reports.length, 2, stdout)
  t.is(reports[0][1], reports[1][1], 'the report was built once, by one worker, for both requests')
  t.regex(lines.at(-3), /^POST \/logout -> 200 logged out \(worker \d\)$/)
  t.regex(lines.at(-2), /^GET \/ -> 200 anonymous \(worker \d\)$/)
  t.is(lines.at(-1), 'master: sessions left in the store: 0')
})

test('session.d.ts: correct usage compiles through the exports map, mistakes do not', async (t) => {
  const tsc = require.resolve('typescript/bin/tsc')
  const { code, stdout, stderr } = await run(tsc, ['-p', path.join(__dirname, 'types', 'tsconfig.session.json')])
  t.is(code, 0, stdout + stderr)
})
