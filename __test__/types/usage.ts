// Compiled by __test__/types.spec.js with `tsc --noEmit`: what must type-check
// does, and every @ts-expect-error line must really be an error.

import sharedmemory = require('../..')
import { init, SharedMemoryError, codes, defaults, type Controller, type ErrorCode } from '../..'

const sm: Controller = init({ cache: { type: 'LRU', max: 100 }, timeout: 1000 })
init({ cache: { type: 'expire', expire: 60000 } })
init({ cache: { type: 'expire', time: 60000 } })
init({ manager: 1, connectTimeout: 500, maxValueSize: 1024 })
init({ persist: 'store.snap' })
init({ name: 'app', persist: { path: '/var/lib/app/store.snap', interval: 5000 } })
init({ name: 'app', host: 'external', connectTimeout: 10000 })
const snapshotCode: ErrorCode = 'ERR_SNAPSHOT_CORRUPT'
void snapshotCode
// @ts-expect-error a persist config needs a path
init({ persist: { interval: 100 } })
// @ts-expect-error host is 'auto' or 'external'
init({ name: 'app', host: 'self' })

async function promises(): Promise<void> {
  const ok: 'OK' = await sm.set('a', [0, 1, 2, 3])
  const okMany: 'OK' = await sm.set({ a: 1, b: 'two' })
  const value: number[] | undefined = await sm.get<number[]>('a')
  const removed: 'OK' = await sm.remove('a')
  const n: number = await sm.plusOne('n')
  await sm.get(5)
  await sm.ready()
  const transport: 'local' | 'socket' | 'ipc' | 'connecting' | 'redis' = sm.transport
  void [ok, okMany, value, removed, n, transport]
}

function sync(): void {
  const ok: 'OK' = sm.setSync('a', { x: 1 })
  const okMany: 'OK' = sm.setSync({ a: 1 })
  const value: { x: number } | undefined = sm.getSync<{ x: number }>('a')
  const removed: 'OK' = sm.removeSync('a')
  const n: number = sm.plusOneSync('n')
  init({ transport: 'ipc' })
  init({ serialization: 'advanced' })
  const code: ErrorCode = 'ERR_SERIALIZATION_MISMATCH'
  void [ok, okMany, value, removed, n, code]
}

async function toolbox(): Promise<void> {
  const stored: boolean = await sm.set('k', 1, { nx: true, ttl: 1000 })
  const okTtl: 'OK' = await sm.set('k', 1, { ttl: 1000 })
  const values: Array<number | undefined> = await sm.mget<number>(['a', 'b'])
  const existed: boolean = await sm.delete('k')
  const has: boolean = await sm.has('k')
  const n: number = await sm.incr('n', 5, { ttl: 60000 })
  const withTtl: number = await sm.incr('rate', { ttl: 60000 }) // by 1, the TTL kept
  void withTtl
  const m: number = await sm.decr('n')
  const old: string | undefined = await sm.getSet<string>('k', 'new')
  const swapped: boolean = await sm.compareAndSet('k', 'new', 'newer')
  const ms: number = await sm.ttl('k')
  const keys: string[] = await sm.keys('user:*')
  const size: number = await sm.size()
  const stats = await sm.stats()
  const perNamespace: number = stats.namespaces['sessions'].entries
  const sessions: Controller = sm.ns('sessions')
  const name: string | null = sessions.namespace
  const fromSync: boolean = sessions.setSync('k', 1, { xx: true })
  sm.incr('n', (value) => value.toFixed())
  void [stored, okTtl, values, existed, has, n, m, old, swapped, ms, keys, size, perNamespace, name, fromSync]
}

function callbacks(): void {
  sm.set('a', 1, (reply) => reply.toLowerCase())
  sm.get<string>('a', (value) => value?.toUpperCase())
  sm.plusOne('n', (n) => n.toFixed())
  sm.on('error', (err) => {
    const code: ErrorCode = err.code
    void code
  })
  const errorFirst = init({ callbackStyle: 'error-first' })
  errorFirst.get<string>('a', (err, value) => {
    if (err) return void err.code
    value?.toUpperCase()
  })
}

function errors(err: unknown): void {
  if (err instanceof SharedMemoryError) {
    const code: ErrorCode = err.code
    void code
  }
  const meaning: string = codes.ERR_TIMEOUT
  const timeout: number = defaults.timeout
  void [meaning, timeout, sharedmemory.init]
}

async function locksAndWatches(): Promise<void> {
  const lock = await sm.lock('job', { lease: 30000, wait: Infinity })
  const token: number = lock.token
  const extended: boolean = await lock.extend(5000)
  lock.on('lost', (err) => void err.code)
  const lost: boolean = lock.lost
  const released: boolean = await lock.release()
  const answer: number = await sm.withLock('job', async (held) => held.token + 1, { wait: 0 })
  const stop = sm.watch<{ n: number }>('user:*', (event) => {
    if (event.kind === 'set') void event.value.n
    if (event.kind === 'reset') void (event.key satisfies undefined)
    const kind: 'set' | 'delete' | 'expire' | 'evict' | 'reset' = event.kind
    void kind
  })
  await stop.ready
  const stopped: boolean = await stop()
  const code: ErrorCode = 'ERR_LOCK_TIMEOUT'
  void [token, extended, lost, released, answer, stopped, code]
}

function mistakes(): void {
  // @ts-expect-error a lease is a number of milliseconds
  sm.lock('job', { lease: '30s' })
  // @ts-expect-error watch takes a listener
  sm.watch('user:*')
  // @ts-expect-error keys are strings or numbers
  sm.get({ a: 1 })
  // @ts-expect-error unknown cache type
  init({ cache: { type: 'LFU' } })
  // @ts-expect-error plusOne answers a number
  sm.plusOne('n').then((s: string) => s)
  // @ts-expect-error nx and xx do not go together
  sm.set('k', 1, { nx: true, xx: true })
  // @ts-expect-error a ttl is a number of milliseconds
  sm.set('k', 1, { ttl: '5s' })
  // @ts-expect-error sync calls take no callback
  sm.getSync('a', () => {})
  // @ts-expect-error there are two transports
  init({ transport: 'tcp' })
  // @ts-expect-error serialization is 'json' or 'advanced'
  init({ serialization: 'v8' })
  // @ts-expect-error value-style callbacks take one argument
  sm.get('a', (err: Error, value: unknown) => value)
}

void [promises, sync, toolbox, callbacks, errors, locksAndWatches, mistakes]

// Stores found by name (issue 9), and close().
async function named(): Promise<void> {
  const shared = init({ name: 'myapp', connectTimeout: 5000 })
  const role: 'master' | 'worker' | 'manager' | 'client' = shared.role
  const wasClosed: boolean = shared.closed
  await shared.close()
  const code: ErrorCode = 'ERR_CLOSED'
  const taken: ErrorCode = 'ERR_NAME_TAKEN'
  const dir: ErrorCode = 'ERR_UNSAFE_RUNTIME_DIR'
  void [role, wasClosed, code, taken, dir]
}
void named

// Issue 12: reads answer unknown unless the caller names a type; options take boolean variables,
// and properties that may be undefined (this file also compiles under exactOptionalPropertyTypes,
// tsconfig.exact.json).
async function noAny(flag: boolean, maybeTtl: number | undefined): Promise<void> {
  const plain: unknown = await sm.get('a')
  const named: string | undefined = await sm.get<string>('a')
  // @ts-expect-error get answers unknown, not any
  const leaked: string = await sm.get('a')
  // @ts-expect-error mget answers unknown values
  ;(await sm.mget(['a']))[0].toFixed()
  // @ts-expect-error getSync answers unknown
  sm.getSync('a').length
  // @ts-expect-error getSet answers unknown
  ;(await sm.getSet('a', 1)).length
  sm.watch('user:*', (event) => {
    // @ts-expect-error a watched value is unknown
    if (event.kind === 'set') event.value.n
  })
  sm.get('a', (value) => {
    // @ts-expect-error a callback's value is unknown too
    value.length
  })
  const either: boolean | 'OK' = await sm.set('k', 1, { nx: flag })
  const eitherSync: boolean | 'OK' = sm.setSync('k', 1, { xx: flag, ttl: 1000 })
  const stored: boolean = await sm.set('k', 1, { nx: true })
  const ok: 'OK' = await sm.set('k', 1, { ttl: maybeTtl })
  init({ timeout: maybeTtl, cache: { type: 'LRU', max: maybeTtl } })
  await sm.lock('job', { lease: maybeTtl })
  const cache = sm.ns('cache', { max: 1000, maxBytes: 1_000_000, ttl: 60_000 })
  const defaultTtl: number | undefined = cache.defaultTtl
  // @ts-expect-error ns() bounds are numbers
  sm.ns('cache', { max: '1000' })
  void [plain, named, leaked, either, eitherSync, stored, ok, defaultTtl]
}
void noAny

// The Redis backend.
init({ redis: 'redis://127.0.0.1:6379/0', nearCache: { max: 1000 } })
init({ redis: { url: 'rediss://cache:6380', prefix: 'app:', notifications: 'configure', cluster: true, hashTag: 'namespace' } })
// @ts-expect-error notifications is 'check' or 'configure'
init({ redis: { notifications: 'always' } })
const canWatchValues: boolean = sm.capabilities.watchValues
const onRedis = init({ redis: 'unix:///run/redis.sock' })
const redisTransport: 'redis' = onRedis.transport
onRedis.ns('users').watch('*', (event) => {
  if (event.kind === 'reset') return void (event.key satisfies null)
  const key: string = event.key
  // @ts-expect-error events from Redis carry no value
  const value: number = event.value
  void key
  void value
})

// getOrSet: the value's type is fn's; options are checked.
async function singleFlight(): Promise<void> {
  const report: { total: number } = await sm.getOrSet('report', async () => ({ total: 1 }), { ttl: 60_000 })
  const n: number = await sm.getOrSet('n', () => 1)
  // @ts-expect-error ttl is a number
  await sm.getOrSet('n', () => 1, { ttl: '5' })
  void [report, n]
}
void singleFlight
