'use strict'

// Persistence (init({persist})) and the external host (sharedmemory-host),
// on real processes: a cluster primary that exits and a new one that loads
// its snapshot, a host killed with SIGKILL after a snapshot, corrupt
// snapshots set aside, pm2 reload losing no acknowledged write, and
// unrelated clients sharing through sharedmemory-host.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('ava')

const { runFixture } = require('./helpers')
const { Peer } = require('./peers')

const HOST_BIN = path.join(__dirname, '..', 'bin', 'sharedmemory-host.js')
const fresh = (what) => `test-${what}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`

/** A private directory for snapshots, removed after the test. */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sharedmemory-persist-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Resolves once the file at `file` holds every one of `texts` (a snapshot
 * keeps keys and values as text): checked at once and on every change of
 * its directory (the writer renames a new file into place), with a generous
 * deadline.
 */
function snapshotHolds(file, texts, deadlineMs = 60000) {
  const holds = () => {
    try {
      const bytes = fs.readFileSync(file)
      return texts.every((text) => bytes.includes(text))
    } catch {
      return false
    }
  }
  return new Promise((resolve, reject) => {
    // Watch first, then look: a snapshot renamed into place between a look
    // and the start of the watch would otherwise never be seen.
    let done = false
    const watcher = fs.watch(path.dirname(file), () => {
      if (holds()) finish(null)
    })
    const timer = setTimeout(() => finish(new Error(`${file} never held ${texts.join(', ')}`)), deadlineMs)
    if (holds()) finish(null)
    function finish(err) {
      if (done) return
      done = true
      watcher.close()
      clearTimeout(timer)
      if (err) reject(err)
      else resolve()
    }
  })
}

/** A peer of a persisted store (fixtures/persist/peer.js) with these init() options. */
function peer(t, options) {
  return new Peer(t, path.join(__dirname, 'fixtures', 'persist', 'peer.js'), [JSON.stringify(options)])
}

/** The warnings a peer printed ("WARNING {code, message}" lines). */
function warnings(p) {
  return p.output
    .split('\n')
    .filter((line) => line.startsWith('WARNING '))
    .map((line) => JSON.parse(line.slice(8)))
}

test('a cluster primary with persist exits gracefully; a new primary with the same path has the data, TTLs kept and the expired key gone', async (t) => {
  const file = path.join(tempDir(t), 'store.snap')
  const written = await runFixture('persist/primary.js', ['write', file])
  t.is(written.code, 0)
  t.true(written.result.written)
  const bytes = fs.readFileSync(file)
  t.true(bytes.includes('"short"'), 'the key with the short TTL was live when the last snapshot was written')
  t.is(fs.statSync(file).mode & 0o777, 0o600, 'the snapshot is private')
  const { result } = await runFixture('persist/primary.js', ['read', file, String(written.result.shortUntil)])
  t.deepEqual(result.fromPrimary, { n: 1 })
  t.deepEqual(result.fromWorker, [1, 2, 3])
  t.deepEqual(result.session, { user: 'ada' }, 'namespaces kept')
  t.is(result.long, 'kept')
  t.true(result.longTtl > 0 && result.longTtl < 600000, `the TTL runs on from where it was: ${result.longTtl}`)
  t.is(result.short, -2, 'the key whose TTL ran out meanwhile is dropped at load')
  t.is(result.stats.entries, 4)
})

test('a host killed with SIGKILL after a snapshot: the next host finds what was written before it', async (t) => {
  const file = path.join(tempDir(t), 'store.snap')
  const options = { name: fresh('kill9'), persist: { path: file, interval: 50 } }
  const first = peer(t, options)
  t.is((await first.ask('info')).role, 'master')
  await first.ask('set', { key: 'before', value: 'the snapshot' })
  await first.ask('set', { key: 'ttl', value: 1, ttl: 600000 })
  await snapshotHolds(file, ['"before"', '"the snapshot"', '"ttl"'])
  first.kill('SIGKILL')
  t.is((await first.exited).signal, 'SIGKILL')
  const next = peer(t, options)
  t.is((await next.ask('info')).role, 'master')
  t.is((await next.ask('get', { key: 'before' })).value, 'the snapshot')
  const { ttl } = await next.ask('ttl', { key: 'ttl' })
  t.true(ttl > 0 && ttl <= 600000, `${ttl}`)
  t.deepEqual(warnings(next), [])
})

/** Damage done to a good snapshot, and what the report says. */
const damages = [
  ['truncated', (bytes) => bytes.subarray(0, bytes.length - 3), /truncated/],
  ['a flipped byte', (bytes) => Buffer.from(bytes.map((b, i) => (i === bytes.length - 2 ? b ^ 0x10 : b))), /checksum/],
  [
    'another format version',
    (bytes) => {
      const copy = Buffer.from(bytes)
      copy.writeUInt32LE(99, 8)
      return copy
    },
    /format version 99/,
  ],
]

for (const [what, damage, reason] of damages) {
  test(`a corrupt snapshot (${what}) is reported once with ERR_SNAPSHOT_CORRUPT, set aside as it was, and the store starts empty`, async (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'store.snap')
    const options = { name: fresh('corrupt'), persist: { path: file, interval: 50 } }
    const writer = peer(t, options)
    await writer.ask('set', { key: 'k', value: 'v' })
    await writer.ask('close') // a host that closes writes its last snapshot
    writer.kill('SIGKILL') // (its stdin would keep it alive) nothing of it is needed any more
    await writer.exited
    const damaged = damage(fs.readFileSync(file))
    fs.writeFileSync(file, damaged)

    const next = peer(t, options)
    t.is((await next.ask('info')).role, 'master')
    t.is((await next.ask('get', { key: 'k' })).value, undefined, 'nothing of the bad file was loaded')
    const reported = warnings(next)
    t.is(reported.length, 1, JSON.stringify(reported))
    t.is(reported[0].code, 'ERR_SNAPSHOT_CORRUPT')
    t.regex(reported[0].message, reason)
    const aside = fs.readdirSync(dir).filter((name) => name.startsWith('store.snap.corrupt-'))
    t.is(aside.length, 1)
    t.deepEqual(fs.readFileSync(path.join(dir, aside[0])), damaged, 'kept byte for byte')
    // The store carries on persisting, to a fresh file.
    await next.ask('set', { key: 'new', value: 'data' })
    await snapshotHolds(file, ['"new"', '"data"'])
  })
}

test('sharedmemory-host: two unrelated scripts share through it, and reconnect when it restarts, which loses nothing with --persist', async (t) => {
  const name = fresh('external')
  const file = path.join(tempDir(t), 'host.snap')
  const startHost = async () => {
    const host = new Peer(t, HOST_BIN, ['--name', name, '--persist', file, '--interval', '50'])
    await host.waitFor(/sharedmemory-host: serving/)
    return host
  }
  let host = await startHost()
  const options = { name, host: 'external' }
  const [a, b] = [peer(t, options), peer(t, options)]
  const infos = await Promise.all([a.ask('info'), b.ask('info')])
  t.deepEqual(infos.map((info) => [info.role, info.transport]), [['worker', 'socket'], ['worker', 'socket']], 'neither client hosts')
  const counts = await Promise.all([a.ask('incr', { key: 'n', times: 500 }), b.ask('incr', { key: 'n', times: 500 })])
  t.is(Math.max(...counts.map((c) => c.last)), 1000, 'one exact counter')
  await a.ask('set', { key: 'greeting', value: 'hello' })
  t.is((await b.ask('get', { key: 'greeting' })).value, 'hello')

  host.kill('SIGTERM')
  t.deepEqual(await host.exited, { code: 0, signal: null }, 'SIGTERM: the last snapshot, then exit 0')
  t.regex(host.output, /SIGTERM: stopped serving/)
  host = await startHost()
  t.is((await a.ask('get', { key: 'n' })).value, 1000, 'the clients found the new host, which loaded the snapshot')
  t.is((await b.ask('get', { key: 'greeting' })).value, 'hello')
  t.is((await b.ask('info')).role, 'worker')
})

test("host: 'external' with no host running: calls fail with ERR_NO_HOST once connectTimeout has passed", async (t) => {
  const client = peer(t, { name: fresh('nohost'), host: 'external', connectTimeout: 300 })
  const started = Date.now()
  const answer = await client.ask('get', { key: 'k' })
  t.is(answer.error, 'ERR_NO_HOST')
  t.log(`failed after ${Date.now() - started} ms (connectTimeout 300)`)
  t.is((await client.ask('set', { key: 'k', value: 1 })).error, 'ERR_NO_HOST', 'later calls too, and the client never hosts')
})

test('sharedmemory-host refuses a bad command line with its usage', async (t) => {
  const { run } = require('./helpers')
  const { code, stderr } = await run(HOST_BIN, ['--max', '10'])
  t.is(code, 2)
  t.regex(stderr, /--name is required/)
})

test('pm2 reload of a cluster app with persist (no shared segment): no acknowledged write is lost', async (t) => {
  const { pm2, pm2Home, freePort, get, instances } = require('./pm2-run')
  const home = pm2Home(t)
  const port = await freePort()
  const file = path.join(tempDir(t), 'app.snap')
  const app = path.join(__dirname, 'fixtures', 'persist', 'pm2-app.js')
  await pm2(home, ['start', app, '-i', '2', '--name', 'sm-persist'], { PORT: String(port), SM_PERSIST: file, SM_SHARED_READS: '0' })
  const before = await instances(port, 2)
  t.deepEqual(before.map((info) => info.role).sort(), ['master', 'worker'])

  // Writers keep writing through the reload; a write counts once its request answered 200.
  const acknowledged = []
  let failed = 0
  let writing = true
  let next = 0
  const writer = async () => {
    while (writing) {
      const key = `k${next++}`
      try {
        await get(port, `/put?${key}`, 15000)
        acknowledged.push(key)
      } catch {
        // Not acknowledged: refused (ERR_HOST_EXITED while the host hands over), no instance listening, or a
        // connection PM2 handed to an instance as it ended, never answered.
        failed++
      }
    }
  }
  const writers = Array.from({ length: 4 }, writer)
  while (acknowledged.length < 50) await get(port, '/info') // some writes land before the reload
  await pm2(home, ['reload', 'sm-persist'])
  const after = await instances(port, 2, { except: new Set(before.map((info) => info.pid)) })
  const atReload = acknowledged.length
  while (acknowledged.length < atReload + 50) await get(port, '/info') // and some after it, on the new instances
  writing = false
  await Promise.all(writers)

  t.deepEqual(after.map((info) => info.role).sort(), ['master', 'worker'], 'the new instances elected a host')
  const { keys } = await get(port, '/keys')
  const held = new Set(keys)
  const lost = acknowledged.filter((key) => !held.has(key))
  t.deepEqual(lost, [], 'every acknowledged write survived the reload')
  t.log(`${acknowledged.length} writes acknowledged, ${failed} not (refused or unanswered) during the reload; ${keys.length} keys held`)
})

test('close() of a host with persist writes the last snapshot before handing over: the next host, elected at once, loads it', async (t) => {
  const file = path.join(tempDir(t), 'store.snap')
  // An hour between snapshots and no shared segment: only the last snapshot can carry the data.
  const options = { name: fresh('handover'), persist: { path: file, interval: 3600000 }, sharedReads: false }
  const host = peer(t, options)
  t.is((await host.ask('info')).role, 'master')
  const client = peer(t, options)
  t.is((await client.ask('info')).role, 'worker')
  await client.ask('set', { key: 'written', value: 'by the client', ttl: 600000 })
  t.false(fs.existsSync(file), 'no periodic snapshot yet')
  t.true((await host.ask('close')).closed)
  t.true(fs.readFileSync(file).includes('"by the client"'))
  // A get sent before the client saw its host go fails with ERR_HOST_EXITED (in flight at a host change); ask again.
  let answer = await client.ask('get', { key: 'written' })
  for (let i = 0; i < 100 && answer.error === 'ERR_HOST_EXITED'; i++) answer = await client.ask('get', { key: 'written' })
  t.is(answer.value, 'by the client', `the client was elected and loaded it (${JSON.stringify(answer)})`)
  t.is((await client.ask('info')).role, 'master')
  t.is((await host.ask('get', { key: 'written' })).error, 'ERR_CLOSED')
})
