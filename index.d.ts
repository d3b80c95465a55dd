// Type definitions for sharedmemory. The native binding's own types are
// generated into binding.d.ts by the napi CLI; this file describes the
// public JavaScript API built on it (index.js, lib/).

import { EventEmitter } from 'node:events'

/** Keys are strings; numbers are turned into strings (5 and '5' are one key). */
export type Key = string | number

export type CallbackStyle = 'value' | 'error-first'

/** Bounds on what the store keeps. Only the process hosting the store reads it. */
export type CacheConfig =
  | {
      /** Evict the least recently used entries beyond `max`. */
      type: 'LRU' | 'lru'
      /** Most entries kept. Default 10000. */
      max?: number | undefined
      /** Most encoded key + value bytes kept, evicting least recently used entries. Default: no bound. */
      maxBytes?: number | undefined
    }
  | {
      /** Remove entries not read or written for `expire` milliseconds (sliding expiry). */
      type: 'expire'
      /** Idle time in ms before an entry goes. Default 1800000 (30 minutes). */
      expire?: number | undefined
      /** Alias of `expire`, the key sharedmemory 0.0.7 actually read. */
      time?: number | undefined
      /** Most entries kept, evicting the least recently used. Default: no bound. */
      max?: number | undefined
      /** Most encoded key + value bytes kept, evicting least recently used entries. Default: no bound. */
      maxBytes?: number | undefined
    }

export interface Config<S extends CallbackStyle = CallbackStyle> {
  /**
   * Share the store of this name with every process of the same user on this machine that calls
   * init() with it (any mix of scripts): the first to bind the name's socket hosts the store, the
   * others connect, and when the host goes another is elected (it takes over what the dead host
   * published to shared memory, and with `persist` loads the last snapshot). Under PM2 the instances of one app do this without the option. Linux only.
   * Cannot be combined with `manager` or with transport 'ipc'.
   */
  name?: string | undefined
  /** LRU or sliding-expiry bounds. Default: unbounded, as in 0.0.7. */
  cache?: CacheConfig | undefined
  /** Relay mode: the worker with this `cluster.worker.id` hosts the store and the master forwards to it. */
  manager?: number | undefined
  /** Milliseconds a request may wait for its reply before failing with ERR_TIMEOUT. Default 5000. */
  timeout?: number | undefined
  /** Milliseconds a worker waits for the store to be served before failing with ERR_NO_HOST. Default 3000. */
  connectTimeout?: number | undefined
  /**
   * Largest encoded value in bytes (its JSON text; with serialization 'advanced', the JSON string
   * holding the base64 of its V8 serialization); larger ones fail with ERR_VALUE_TOO_LARGE. Default 16 MiB.
   */
  maxValueSize?: number | undefined
  /**
   * 'value' (default): callbacks get the result only, as in 0.0.7, and failures are emitted as
   * 'error' on the controller. 'error-first': callbacks are called as `cb(err, result)`.
   */
  callbackStyle?: S | undefined
  /**
   * How workers reach the store. 'socket' (default): a local socket served by Rust threads in the
   * hosting process, which keeps serving while its JS thread is busy, and allows sync calls.
   * 'ipc': Node's cluster IPC channel only. Workers fall back to IPC when the socket cannot be used.
   */
  transport?: 'socket' | 'ipc' | undefined
  /**
   * How values are stored. 'json' (default, as in 0.0.7): values are what JSON can carry (a Date
   * comes back as a string, a Buffer as {type, data}, BigInts and cycles are refused).
   * 'advanced': Node's V8 serializer (node:v8), so Buffers, typed arrays, Dates, Maps, Sets,
   * BigInts, RegExps, `undefined` inside objects and cycles come back as they were stored; plain
   * finite numbers stay JSON numbers, so incr() keeps working on counters written with set().
   * Every process must pass the same setting: a worker whose setting differs from the store's host
   * gets ERR_SERIALIZATION_MISMATCH from every call and from ready(). Unrelated to the
   * `serialization` option of Node's cluster.setupPrimary(), which only changes how cluster IPC
   * messages travel.
   */
  serialization?: 'json' | 'advanced' | undefined
  /**
   * Whether reads come straight from shared memory (Linux). Default true. The host publishes
   * its store to a segment every local worker maps read-only; a worker's get(), has(), mget() and
   * getSync() read it without sending a message (so they are served even while the host is busy or
   * frozen): async ones while nothing else of the worker is in flight, sync ones unless one of its
   * own writes is in flight, so it always reads its own writes. The reads count as uses (LRU order,
   * sliding expiry) and hits or misses as if the host had served them.
   * Set on the host, it decides whether the store is published; on a worker, whether it reads it.
   */
  sharedReads?: boolean | undefined
  /**
   * With sharedReads: about how many bytes of its heap a worker may spend keeping the objects and
   * arrays it read from the segment (estimated as twice the value text's length, plus the key and
   * 96 bytes an entry; the oldest go first). A read of an entry unchanged since it was kept skips
   * JSON.parse and answers a fresh copy (each get returns its own objects, as JSON.parse would). It
   * is checked against the segment on every read, so it never answers an old value, an expired
   * entry is a miss, and reads count as uses and hits as before. A whole number; 0: none kept.
   * Default 4194304 (4 MiB).
   */
  sharedReadCache?: number | undefined
  /**
   * Keep the store in a file across host restarts: the process that hosts the store loads the
   * last snapshot when it starts hosting (a cluster master at init(), an elected host once
   * elected, after taking over what a dead host left in shared memory, which is newer), writes a
   * new snapshot every `interval` ms while the store changes (on a thread of its own, atomically:
   * a temporary file, fsync, rename), and a last one when it stops hosting gracefully: close(),
   * process.exit() or the event loop running out, SIGINT/SIGTERM when the app has no listener of
   * its own for them (the signal is then raised again), PM2's 'shutdown' message. TTLs are kept
   * as wall-clock deadlines; entries whose TTL ran out meanwhile are dropped. A file that is
   * truncated, damaged or of another version is set aside as `<path>.corrupt-<ms>` and reported
   * once (a process warning with code ERR_SNAPSHOT_CORRUPT); the store then starts empty. A string
   * is short for `{path}`. Only the hosting process's setting counts. Not with host 'external'.
   */
  persist?: string | PersistConfig | undefined
  /**
   * For a store found by name (or a PM2 app's): 'auto' (default), the processes elect a host
   * among themselves; 'external', this process never hosts: it connects to the store a
   * `sharedmemory-host --name <name>` process serves, waits for it up to `connectTimeout` (then
   * ERR_NO_HOST), and reconnects when that host restarts.
   */
  host?: 'auto' | 'external' | undefined
  /**
   * Keep the store on a Redis (≥ 7) or Valkey (≥ 7.2) server instead of in this machine's
   * processes: every process, on any machine, that calls init() with the same server and prefix
   * shares it. A URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS,
   * `unix:///path/to/redis.sock`) or {@link RedisConfig}. Cannot be combined with `name` or
   * `manager`. See the README's "Redis" section for what differs from the local store.
   */
  redis?: string | RedisConfig | undefined
  /**
   * Redis backend only: get() and getSync() of keys this process read before are answered from its
   * own memory, dropped as Redis's CLIENT TRACKING invalidations arrive (and all of it whenever a
   * connection is lost). Bounds: `max` entries (default 10000), `maxBytes` of value text (default
   * 64 MiB). Not with cache type 'expire'.
   */
  nearCache?: { max?: number | undefined; maxBytes?: number | undefined } | undefined
}

/** The `redis` option as an object. */
export interface RedisConfig {
  /** Default 'redis://127.0.0.1:6379'. */
  url?: string | undefined
  /** Starts every key this package writes (no '{' or '}'). Default 'sm:'. */
  prefix?: string | undefined
  /**
   * The URL is one node of a Redis Cluster: commands go to the node of their key's slot; watch()
   * subscribes to every primary. Default false.
   */
  cluster?: boolean | undefined
  /** 'namespace': every key of a namespace in one hash slot (Redis Cluster: atomic mget/mset within it). */
  hashTag?: 'namespace' | undefined
  /**
   * 'check' (default): watch() fails with ERR_REDIS_NOTIFICATIONS when the server does not send the
   * keyspace notifications it needs (notify-keyspace-events with K, g, $, x, e). 'configure': watch()
   * adds the missing flags with CONFIG SET.
   */
  notifications?: 'check' | 'configure' | undefined
}

export interface PersistConfig {
  /** The snapshot file (made absolute at init()). One store per file. */
  path: string
  /** Milliseconds between snapshots, written only when the store changed. Default 1000. */
  interval?: number | undefined
}

export type ErrorCode =
  | 'ERR_INVALID_KEY'
  | 'ERR_KEY_TOO_LARGE'
  | 'ERR_INVALID_VALUE'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_NOT_A_NUMBER'
  | 'ERR_TIMEOUT'
  | 'ERR_NO_HOST'
  | 'ERR_HOST_EXITED'
  | 'ERR_NOT_READY'
  | 'ERR_SYNC_UNAVAILABLE'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_PROTOCOL'
  /** lock() did not get the lock within its `wait`. */
  | 'ERR_LOCK_TIMEOUT'
  /** This process fell so far behind on watch events that some were dropped (emitted as 'error'). */
  | 'ERR_WATCH_OVERFLOW'
  /** This process's `serialization` option differs from the one of the process hosting the store. */
  | 'ERR_SERIALIZATION_MISMATCH'
  /** close() was called in this process: pending and later calls fail with it. */
  | 'ERR_CLOSED'
  /** The socket name of a store found by name (or of a PM2 app) is held by a process of another user. */
  | 'ERR_NAME_TAKEN'
  /** The runtime directory that holds the token files of stores found by name is not private to this user. */
  | 'ERR_UNSAFE_RUNTIME_DIR'
  /** require('sharedmemory') on a platform with no native binary (the message names the supported ones). */
  | 'ERR_UNSUPPORTED_PLATFORM'
  /** Redis backend: the server cannot be reached (refused, closed, or reconnecting after a failure). */
  | 'ERR_REDIS_UNAVAILABLE'
  /** Redis backend: the server answered with an error this package does not expect (WRONGTYPE, NOAUTH, OOM...). */
  | 'ERR_REDIS'
  /** Redis backend: watch() needs keyspace notifications, which the server does not send (or lets us turn on). */
  | 'ERR_REDIS_NOTIFICATIONS'
  /** (A process warning) the snapshot file is truncated, damaged or of another version: set aside, not loaded. */
  | 'ERR_SNAPSHOT_CORRUPT'
  /** (A process warning) a snapshot could not be written, or the snapshot file could not be read. */
  | 'ERR_SNAPSHOT_FAILED'

/** What every failed call rejects with (bad key types reject with a TypeError carrying code ERR_INVALID_KEY). */
export declare class SharedMemoryError extends Error {
  readonly name: 'SharedMemoryError'
  readonly code: ErrorCode
}

/** A bad key type: a TypeError with code 'ERR_INVALID_KEY'. */
export interface InvalidKeyError extends TypeError {
  readonly code: 'ERR_INVALID_KEY'
}

export type CallError = SharedMemoryError | InvalidKeyError

export type Callback<S extends CallbackStyle, T> = S extends 'error-first'
  ? (err: CallError | null, result?: T) => void
  : (result: T) => void

/** Counters of the store, or of one namespace. */
export interface Counters {
  /** Keys held now. */
  entries: number
  /** Encoded key and value bytes held now. */
  bytes: number
  hits: number
  misses: number
  sets: number
  deletes: number
  /** Keys removed because their TTL or idle time ran out. */
  expirations: number
  /** Keys removed to stay within the cache bounds. */
  evictions: number
}

/** stats() of the whole store: the totals, and each namespace's counters ('' is the default namespace). */
export interface StoreStats extends Counters {
  /** Bytes of the shared segment's current generation (0 when the store is not published: sharedReads off). */
  segmentBytes: number
  namespaces: Record<string, Counters>
}

export interface GetOrSetOptions {
  /** The stored value's TTL in ms (default: none, or the namespace's ns(name, {ttl})). */
  ttl?: number | undefined
  /** How long fn may run, in ms, before another process may compute it instead (default 30000). */
  lease?: number | undefined
  /** How long a caller waits for its turn, in ms (default 30000; then ERR_LOCK_TIMEOUT). */
  wait?: number | undefined
}

export interface LockOptions {
  /** How long the lock is held at most, in ms (default 30000). */
  lease?: number | undefined
  /** How long to wait for it, in ms (default 10000; 0: do not wait; Infinity: as long as it takes). */
  wait?: number | undefined
}

/**
 * A held lock. It emits 'lost' (with an ERR_HOST_EXITED error) once if the host it was held on
 * goes away (exits, is killed, or closes; a store found by name then moves to a new host, where
 * this lock is not held): from then on `lost` is true and release() and extend() answer false.
 */
export interface Lock extends EventEmitter {
  /** The key it was taken on. */
  readonly key: Key
  /**
   * Larger than the token of every earlier grant, on this host and on every earlier host of the
   * store (the host's epoch times 2^32, plus its count of grants: always a safe integer): lets a
   * resource refuse a holder whose lease ran out, or whose host went away.
   */
  readonly token: number
  /** Whether the host this lock was held on went away ('lost' was emitted). */
  readonly lost: boolean
  /** Lets it go; answers whether this holder still had it (false once its lease ran out, or it was lost). */
  release(callback?: (err: CallError | null, released?: boolean) => void): Promise<boolean>
  /** A new lease of `lease` ms from now; answers whether this holder still had it. */
  extend(lease: number, callback?: (err: CallError | null, held?: boolean) => void): Promise<boolean>
  on(event: 'lost', listener: (err: SharedMemoryError) => void): this
  once(event: 'lost', listener: (err: SharedMemoryError) => void): this
}

/**
 * A change of a watched key. `reset` (no key): the store moved to a new host (a failover of a store
 * found by name); the watch was started again there by itself, and changes between the old host's
 * last event and this one may have been missed: read what matters again.
 */
export type WatchEvent<T = unknown> =
  | { key: string; kind: 'set'; value: T }
  | { key: string; kind: 'delete' | 'expire' | 'evict'; value?: undefined }
  | { key: undefined; kind: 'reset'; value?: undefined }

/**
 * A watch event on the Redis backend: keyspace notifications carry no value, so no event has
 * one; `reset` comes after the subscriber reconnected (events may have been missed: look again).
 */
export type RedisWatchEvent =
  | { key: string; kind: 'set' | 'delete' | 'expire' | 'evict'; value?: undefined }
  | { key: null; kind: 'reset'; value?: undefined }

/** Stops a watch; `ready` resolves once the store has it (changes from then on are seen). */
export interface StopWatching {
  (): Promise<boolean>
  readonly ready: Promise<void>
}

/** Options of set(): a TTL, and at most one of nx (only if absent) and xx (only if present). */
export type SetOptions = TtlOption &
  ({ nx?: boolean | undefined; xx?: false | undefined } | { xx?: boolean | undefined; nx?: false | undefined })

/** Options of ns(): bounds of that namespace alone, and a default TTL. */
export interface NamespaceOptions {
  /** Most entries this namespace keeps, evicting its own least recently used. */
  max?: number | undefined
  /** Most encoded key + value bytes this namespace keeps, evicting its own least recently used. */
  maxBytes?: number | undefined
  /** TTL in ms of this controller's writes (set, mset, incr, decr) that give none. */
  ttl?: number | undefined
}

export interface TtlOption {
  /** Time to live in milliseconds; the key is removed when it runs out. */
  ttl?: number | undefined
}

/**
 * What init() returns, in the master and in every worker. Every method returns a Promise and also
 * takes an optional callback as its last argument; callbacks are always called asynchronously.
 */
export interface Controller<S extends CallbackStyle = 'value'> extends EventEmitter {
  /**
   * 'master' (this process hosts the store: the cluster master, or the elected host of a store
   * found by name or of a PM2 app), 'worker' (it reaches the store in another process), or
   * 'manager' (the worker hosting the store in relay mode). For a store found by name it can
   * change: a worker becomes 'master' when it is elected after the host went away. A worker thread
   * has its process's role (it uses the process's store directly where the process hosts it, with
   * transport 'local'); a child_process.fork() child of a process that called init() is a 'worker'.
   */
  readonly role: 'master' | 'worker' | 'manager' | 'client'
  /**
   * How this process reaches the store: 'local' (it hosts it), 'socket', 'ipc' or 'redis';
   * 'connecting' until it knows (no host has answered yet). Can change with `role`.
   */
  readonly transport: 'local' | 'socket' | 'ipc' | 'redis' | 'connecting'
  /** What the backend guarantees; on Redis every one but `sync` is false (see the README's "Redis backend" section). */
  readonly capabilities: Readonly<{
    /** The *Sync methods work (on Redis: a blocking round trip to the server). */
    sync: boolean
    /** The requests of one event-loop turn are applied as one atomic step. */
    atomicBatch: boolean
    /** A lock whose holder process exits passes on at once (on Redis: when its lease ends). */
    lockReleaseOnExit: boolean
    /** Watch events of kind 'set' carry the new value. */
    watchValues: boolean
    /** cache.max bounds the number of entries. */
    lruByCount: boolean
  }>
  /**
   * Ends this process's part (whichever controller of this process it is called on): pending and
   * later calls fail with ERR_CLOSED, its connections close, and a host stops serving (a cluster
   * master's workers get ERR_HOST_EXITED; the other processes of a store found by name elect a
   * new host). A later init() starts afresh.
   */
  close(): Promise<void>
  /** Whether close() was called in this process. */
  readonly closed: boolean

  /**
   * Resolves once the store is reachable and sync calls can be made; rejects with ERR_NO_HOST when
   * no host is found within connectTimeout.
   */
  ready(): Promise<void>

  /** The namespace of this controller, or null for the default one. */
  readonly namespace: string | null
  /**
   * A controller with the same API whose keys are apart from every other namespace's. With `max`
   * or `maxBytes`, the namespace is bounded on its own: the store evicts its least recently used
   * entries, never another namespace's (sent to the store at once; they hold for every process
   * until another ns() call of this name sets others). `ttl` is this controller's default TTL.
   */
  ns(name: string, options?: NamespaceOptions): Controller<S>
  /** On a controller made by ns(name, {ttl}): that TTL (ms); otherwise undefined. */
  readonly defaultTtl: number | undefined

  /**
   * Stores `value` (anything JSON can carry; with serialization 'advanced', anything node:v8 can)
   * under `key`; `undefined` removes the key. Answers 'OK'.
   */
  set(key: Key, value: unknown, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** With `nx` (only if absent) or `xx` (only if present): answers whether it stored. */
  set(
    key: Key,
    value: unknown,
    options: TtlOption & ({ nx: true; xx?: false } | { xx: true; nx?: false }),
    callback?: Callback<S, boolean>,
  ): Promise<boolean>
  /** With a `ttl` in ms. A set without `ttl` removes any TTL the key had. */
  set(key: Key, value: unknown, options: TtlOption & { nx?: false; xx?: false }, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** With `nx`/`xx` that may be either (a boolean variable): 'OK' when both are false, else whether it stored. */
  set(key: Key, value: unknown, options: SetOptions, callback?: Callback<S, boolean | 'OK'>): Promise<boolean | 'OK'>
  /** Stores every own property of `entries` in one step. Answers 'OK'. */
  set(entries: Record<string, unknown>, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** The value under `key`, or undefined when there is none. */
  get<T = unknown>(key: Key, callback?: Callback<S, T | undefined>): Promise<T | undefined>
  /** Removes `key`. Answers 'OK' whether or not it was there. */
  remove(key: Key, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** Atomically adds 1 to the number under `key` (a missing key counts as 0); answers the new number. */
  plusOne(key: Key, callback?: Callback<S, number>): Promise<number>

  /** Stores every own property of `entries`, all or none, optionally with one TTL. */
  mset(entries: Record<string, unknown>, options?: TtlOption, callback?: Callback<S, 'OK'>): Promise<'OK'>
  mset(entries: Record<string, unknown>, callback: Callback<S, 'OK'>): Promise<'OK'>
  /** The values of `keys`, in order, undefined where missing. */
  mget<T = unknown>(keys: Key[], callback?: Callback<S, Array<T | undefined>>): Promise<Array<T | undefined>>
  /** Removes `key`; answers whether it existed. */
  delete(key: Key, callback?: Callback<S, boolean>): Promise<boolean>
  /** Whether `key` exists. Does not count as a use for LRU or sliding expiry. */
  has(key: Key, callback?: Callback<S, boolean>): Promise<boolean>
  /**
   * Atomically adds `by` (default 1) and answers the new number. A `ttl` applies only when this
   * creates the key, so a fixed window is not extended by later increments (rate limits).
   */
  incr(key: Key, by?: number, options?: TtlOption, callback?: Callback<S, number>): Promise<number>
  incr(key: Key, callback: Callback<S, number>): Promise<number>
  /** incr(key, {ttl}): by 1, with a TTL when it creates the key. */
  incr(key: Key, options: TtlOption, callback?: Callback<S, number>): Promise<number>
  incr(key: Key, by: number, callback: Callback<S, number>): Promise<number>
  /** incr with `-by`. */
  decr(key: Key, by?: number, options?: TtlOption, callback?: Callback<S, number>): Promise<number>
  decr(key: Key, callback: Callback<S, number>): Promise<number>
  decr(key: Key, options: TtlOption, callback?: Callback<S, number>): Promise<number>
  decr(key: Key, by: number, callback: Callback<S, number>): Promise<number>
  /** Stores `value` and answers the previous value (or undefined). The new value has no TTL. */
  getSet<T = unknown>(key: Key, value: unknown, callback?: Callback<S, T | undefined>): Promise<T | undefined>
  /**
   * Stores `next` only if the stored value's JSON equals `JSON.stringify(expected)` byte for byte
   * (mind the key order of objects; with serialization 'advanced', its V8 serialization, so
   * insertion order of Maps and Sets counts too), or, with `expected` undefined, only if `key` is missing.
   * Answers whether it stored.
   */
  compareAndSet(key: Key, expected: unknown, next: unknown, callback?: Callback<S, boolean>): Promise<boolean>
  /** Gives `key` a TTL of `ttl` ms; answers whether the key exists. */
  expire(key: Key, ttl: number, callback?: Callback<S, boolean>): Promise<boolean>
  /** Remaining ms of the key's TTL; -1 when it has none, -2 when the key is missing (as Redis PTTL). */
  ttl(key: Key, callback?: Callback<S, number>): Promise<number>
  /** Removes the key's TTL; answers whether it had one. */
  persist(key: Key, callback?: Callback<S, boolean>): Promise<boolean>
  /** Keys matching a glob as Redis KEYS (`*`, `?`, `[a-z]`, `[^a]`, `\` escapes); every key without one. */
  keys(pattern?: string, callback?: Callback<S, string[]>): Promise<string[]>
  keys(callback: Callback<S, string[]>): Promise<string[]>
  /** How many keys there are (in this namespace). */
  size(callback?: Callback<S, number>): Promise<number>
  /** Removes every key of this namespace (of the default namespace on the root controller). */
  clear(callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** Counters: on the root controller the totals and every namespace's; on a namespace, its own. */
  stats(callback?: Callback<S, StoreStats>): Promise<StoreStats>

  /**
   * Takes the lock on `key` (locks are apart from stored keys), waiting in line behind earlier
   * askers for at most `wait`, then failing with ERR_LOCK_TIMEOUT. Released by release(), when the
   * lease runs out, or at once when this process exits (even killed).
   */
  lock(key: Key, options?: LockOptions, callback?: Callback<S, Lock>): Promise<Lock>
  lock(key: Key, callback: Callback<S, Lock>): Promise<Lock>
  /** Runs `fn` holding the lock on `key` and releases it when `fn` settles; answers what `fn` answered. */
  withLock<T>(key: Key, fn: (lock: Lock) => T | Promise<T>, options?: LockOptions): Promise<T>
  /**
   * The value of `key`; when it is missing, `fn()` computes it once across every process of the
   * store (single flight on a lock of its own): the others wait their turn and get the value it
   * stored, or the error it threw (with `computedElsewhere: true`). Nothing is stored when `fn`
   * throws or answers undefined. `ttl` is the stored value's TTL; `lease` bounds how long `fn` may
   * run before another process may compute (default 30000); `wait` how long a caller waits its turn
   * (default 30000, then ERR_LOCK_TIMEOUT).
   */
  getOrSet<T>(key: Key, fn: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T>
  /**
   * Calls `listener` for every change of a key of this namespace matching `pattern` (a key, or a
   * glob as keys()), made by any process, in the order the store applied them.
   */
  watch<T = unknown>(pattern: string, listener: (event: WatchEvent<T>) => void): StopWatching

  /**
   * Sync forms: they block until the reply arrives and throw on failure. They work in the process
   * that hosts the store and, over the socket transport, in workers once connected: from the
   * first line in a worker forked after its master called init(), else once ready() has resolved
   * (before that they throw ERR_NOT_READY; once no host was found, ERR_NO_HOST; over IPC,
   * ERR_SYNC_UNAVAILABLE). Async calls made earlier are applied first.
   */
  setSync(key: Key, value: unknown): 'OK'
  setSync(key: Key, value: unknown, options: TtlOption & ({ nx: true; xx?: false } | { xx: true; nx?: false })): boolean
  setSync(key: Key, value: unknown, options: TtlOption & { nx?: false; xx?: false }): 'OK'
  setSync(key: Key, value: unknown, options: SetOptions): boolean | 'OK'
  setSync(entries: Record<string, unknown>): 'OK'
  getSync<T = unknown>(key: Key): T | undefined
  removeSync(key: Key): 'OK'
  plusOneSync(key: Key): number
  msetSync(entries: Record<string, unknown>, options?: TtlOption): 'OK'
  mgetSync<T = unknown>(keys: Key[]): Array<T | undefined>
  deleteSync(key: Key): boolean
  hasSync(key: Key): boolean
  incrSync(key: Key, by?: number, options?: TtlOption): number
  incrSync(key: Key, options: TtlOption): number
  decrSync(key: Key, by?: number, options?: TtlOption): number
  decrSync(key: Key, options: TtlOption): number
  getSetSync<T = unknown>(key: Key, value: unknown): T | undefined
  compareAndSetSync(key: Key, expected: unknown, next: unknown): boolean
  expireSync(key: Key, ttl: number): boolean
  ttlSync(key: Key): number
  persistSync(key: Key): boolean
  keysSync(pattern?: string): string[]
  sizeSync(): number
  clearSync(): 'OK'
  statsSync(): StoreStats

  /** Failures of calls made with a value-style callback, which has no error argument. */
  on(event: 'error', listener: (err: CallError) => void): this
  once(event: 'error', listener: (err: CallError) => void): this
  off(event: 'error', listener: (err: CallError) => void): this
}

/**
 * Sets up this process's part of the shared store and answers its controller: in the master it
 * creates the store (or, with `manager`, relays to that worker); in a worker it connects to it.
 * Calling init() again answers the same controller; with a different config it throws
 * ERR_INVALID_CONFIG.
 */
/** The controller of a store on Redis (`init({redis})`): watch events carry no value. */
export interface RedisController<S extends CallbackStyle = 'value'>
  extends Omit<Controller<S>, 'role' | 'transport' | 'ns' | 'watch'> {
  readonly role: 'client'
  readonly transport: 'redis'
  ns(name: string): RedisController<S>
  watch(pattern: string, listener: (event: RedisWatchEvent) => void): StopWatching
}

export declare function init<S extends CallbackStyle = 'value'>(
  config: Config<S> & { redis: string | RedisConfig },
): RedisController<S>
export declare function init<S extends CallbackStyle = 'value'>(config?: Config<S>): Controller<S>

/** Every error code with a one-line meaning. */
export declare const codes: Readonly<Record<ErrorCode, string>>

/** The defaults init() fills in. */
export declare const defaults: Readonly<{
  lruMax: number
  expire: number
  timeout: number
  connectTimeout: number
  maxValueSize: number
  callbackStyle: 'value'
  transport: 'socket'
  serialization: 'json'
  sharedReads: boolean
  sharedReadCache: number
  persistInterval: number
}>
