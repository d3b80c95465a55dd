'use strict'

// Stores found by name (init({name})): unrelated processes of one user
// elect a host by binding the store's socket name; the others connect; when
// the host goes, the survivors elect another. Real processes throughout.
// The election tests run twice: by abstract socket name (Linux's way) and
// by lock file (the way elsewhere, selected here by SHAREDMEMORY_ELECTION).

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const test = require('ava')

const { readableCopy } = require('./readable-copy')

const { socketNameOf } = require('../lib/election')
const { runtimeDir } = require('../lib/runtime-dir')
const { run } = require('./helpers')
const { Peer } = require('./peers')

const fresh = (what) => `test-${what}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`

/** Starts peers of one store together and answers them with their info, once each has joined. */
async function peers(t, name, count, env = {}) {
  const started = Array.from({ length: count }, () => new Peer(t, 'peer.js', [name], { env }))
  const infos = await Promise.all(started.map((peer) => peer.ask('info')))
  return started.map((peer, i) => Object.assign(peer, { info: infos[i] }))
}

for (const [mode, env] of [
  ['abstract socket', {}],
  ['lock file', { SHAREDMEMORY_ELECTION: 'lockfile' }],
]) {
  test(`${mode}: two unrelated scripts sharing {name} keep one exact counter`, async (t) => {
    const name = fresh('counter')
    const [a, b] = await peers(t, name, 2, env)
    t.deepEqual([a.info.role, b.info.role].sort(), ['master', 'worker'], 'exactly one of them hosts')
    const host = a.info.role === 'master' ? a : b
    const client = host === a ? b : a
    t.is(host.info.transport, 'local')
    t.is(client.info.transport, 'socket')
    const [fromA, fromB] = await Promise.all([a.ask('incr', { key: 'n', times: 2000 }), b.ask('incr', { key: 'n', times: 2000 })])
    t.is(Math.max(fromA.last, fromB.last), 4000, 'no increment lost')
    t.deepEqual([(await a.ask('get', { key: 'n' })).value, (await b.ask('get', { key: 'n' })).value], [4000, 4000])
    // The host published its token in a 0600 file of a 0700 directory.
    const dir = runtimeDir()
    t.is(fs.statSync(dir).mode & 0o777, 0o700)
    const files = fs.readdirSync(dir).filter((file) => file.endsWith('.json'))
    const mine = files.map((file) => path.join(dir, file)).find((file) => JSON.parse(fs.readFileSync(file, 'utf8')).pid === host.pid)
    t.truthy(mine, 'the token file names the host')
    t.is(fs.statSync(mine).mode & 0o777, 0o600)
  })

  test(`${mode}: the host SIGKILLed: a waiting call fails with ERR_HOST_EXITED, the survivors elect a new host that serves what the old one held`, async (t) => {
    const name = fresh('failover')
    const all = await peers(t, name, 3, env)
    const host = all.find((peer) => peer.info.role === 'master')
    const survivors = all.filter((peer) => peer !== host)
    t.is(survivors.length, 2)
    await host.ask('lock', { key: 'L' })
    t.is((await survivors[0].ask('incr', { key: 'n', times: 5 })).last, 5)
    // Each survivor has a request waiting at the host (a lock it cannot get).
    const waits = survivors.map((peer) => peer.send('waitLock', { key: 'L' }))
    await Promise.all(waits.map((wait) => wait.sent))
    const killedAt = Date.now()
    host.kill('SIGKILL')
    const failed = await Promise.all(waits.map((wait) => wait.answer))
    t.deepEqual(failed.map((answer) => answer.code), ['ERR_HOST_EXITED', 'ERR_HOST_EXITED'])
    t.is((await host.exited).signal, 'SIGKILL')
    // New requests are served by the new host, which took over what the old one
    // published to shared memory (the survivors still map it).
    const after = await Promise.all(survivors.map((peer) => peer.ask('incr', { key: 'n', times: 1 })))
    t.deepEqual(after.map((answer) => answer.last).sort(), [6, 7], 'one store serves both, with the 5 increments of before')
    const roles = await Promise.all(survivors.map((peer) => peer.ask('info')))
    t.deepEqual(roles.map((info) => info.role).sort(), ['master', 'worker'])
    const failoverMs = Math.min(...after.map((answer) => answer.at)) - killedAt
    t.log(`failover: the first request after the SIGKILL was answered ${failoverMs} ms after it (failures at +${failed.map((f) => f.at - killedAt).join(', +')} ms)`)
  })

  test(`${mode}: close() on a client: its waiting call fails with ERR_CLOSED, later ones too, and the script exits by itself`, async (t) => {
    const name = fresh('close')
    const [holder] = await peers(t, name, 1, env)
    t.is(holder.info.role, 'master')
    await holder.ask('lock', { key: 'L' })
    const { stdout, code, signal } = await run(path.join(__dirname, 'fixtures', 'close-waiting.js'), [name, 'L'], { deadlineMs: 60000, env })
    const result = JSON.parse(stdout.split('\n').find((line) => line.startsWith('RESULT ')).slice(7))
    t.deepEqual(result, { role: 'worker', waited: 'ERR_CLOSED', after: 'ERR_CLOSED', afterSync: 'ERR_CLOSED', closed: true })
    t.deepEqual({ code, signal }, { code: 0, signal: null })
    // The holder still serves.
    t.is((await holder.ask('incr', { key: 'n', times: 1 })).last, 1)
  })

  test(`${mode}: close() on the host: it stops serving, its client elects itself and carries on`, async (t) => {
    const name = fresh('close-host')
    const [first] = await peers(t, name, 1, env)
    const [second] = await peers(t, name, 1, env)
    t.deepEqual([first.info.role, second.info.role], ['master', 'worker'])
    await first.ask('lock', { key: 'L' })
    const wait = second.send('waitLock', { key: 'L' })
    await wait.sent
    t.true((await first.ask('close')).closed)
    t.is((await wait.answer).code, 'ERR_HOST_EXITED')
    t.is((await second.ask('incr', { key: 'n', times: 1 })).role, 'master')
    t.is((await first.ask('get', { key: 'n' })).error, 'ERR_CLOSED')
  })

  test(`${mode}: at a host change, fencing tokens keep growing, holders hear 'lost', and watches are reset and go on`, async (t) => {
    const name = fresh('epoch')
    const all = await peers(t, name, 3, env)
    const host = all.find((peer) => peer.info.role === 'master')
    const [holder, other] = all.filter((peer) => peer !== host)
    const before = await holder.ask('lock', { key: 'L' })
    await holder.ask('watch', { pattern: 'w:*' })
    await other.ask('set', { key: 'w:1', value: 'old host' })
    t.deepEqual((await holder.ask('events', { count: 1 })).events, [{ key: 'w:1', kind: 'set', value: 'old host' }])
    host.kill('SIGKILL')
    await host.exited
    // The watch is started again on the new host by itself: a reset, then its events.
    const [reset] = (await holder.ask('events', { count: 2 })).events.slice(1)
    t.deepEqual(reset, { key: null, kind: 'reset', value: null })
    await other.ask('set', { key: 'w:2', value: 'new host' })
    t.deepEqual((await holder.ask('events', { count: 3 })).events[2], { key: 'w:2', kind: 'set', value: 'new host' })
    // The holder was told its lock is gone, and release() says so.
    const { lost, event, released } = await holder.ask('release', { key: 'L' })
    t.deepEqual({ lost, event, released }, { lost: true, event: 'ERR_HOST_EXITED', released: false })
    // The next grant, on the new host, has a larger token than any of the old host's.
    const after = await other.ask('lock', { key: 'L' })
    t.true(Number.isSafeInteger(after.token), `a safe integer: ${after.token}`)
    t.true(after.token > before.token, `${after.token} > ${before.token}`)
    t.true(after.token >= 2 ** 32, 'the epoch is in the token')
  })
}

// We run as root here; setpriv switches a child to nobody (65534).
const setpriv = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0']).status === 0
const asNobody = { command: 'setpriv', prefix: ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] }
const another = process.getuid() !== 65534 && setpriv ? test : test.skip
if (!setpriv || process.getuid() === 65534) {
  console.log('named.spec: another-uid tests skipped: cannot run a child as nobody here (needs root and setpriv)')
}

another('a socket name held by another user: init({name}) neither joins nor hosts, and says ERR_NAME_TAKEN', async (t) => {
  const name = fresh('squatted')
  const copy = readableCopy(['squat.js'])
  t.teardown(copy.remove)
  const squatter = new Peer(t, copy.script('squat.js'), [socketNameOf(['name', name])], { ...asNobody, env: copy.env })
  await squatter.waitFor(/HOLDING/)
  const [peer] = [new Peer(t, 'peer.js', [name])]
  const info = await peer.ask('info')
  t.is(info.error, 'ERR_NAME_TAKEN')
  t.is((await peer.ask('get', { key: 'k' })).error, 'ERR_NAME_TAKEN')
  squatter.child.stdin.end()
})

another('a process of another user cannot connect to our host, even with its token', async (t) => {
  const name = fresh('intruded')
  const [host] = await peers(t, name, 1)
  t.is(host.info.role, 'master')
  const dir = runtimeDir()
  const token = fs
    .readdirSync(dir)
    .map((file) => path.join(dir, file))
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')))
    .find((published) => published.pid === host.pid).token
  const copy = readableCopy(['intrude.js'])
  t.teardown(copy.remove)
  const intruder = new Peer(t, copy.script('intrude.js'), [socketNameOf(['name', name]), token], { ...asNobody, env: copy.env })
  await intruder.waitFor(/RESULT/)
  const result = JSON.parse(intruder.output.split('\n').find((line) => line.startsWith('RESULT ')).slice(7))
  t.false(result.connected, result.message)
  t.is((await host.ask('incr', { key: 'n', times: 1 })).last, 1)
})
