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
      max?: number
      /** Most encoded key + value bytes kept, evicting least recently used entries. Default: no bound. */
      maxBytes?: number
    }
  | {
      /** Remove entries not read or written for `expire` milliseconds (sliding expiry). */
      type: 'expire'
      /** Idle time in ms before an entry goes. Default 1800000 (30 minutes). */
      expire?: number
      /** Alias of `expire`, the key sharedmemory 0.0.7 actually read. */
      time?: number
      /** Most entries kept, evicting the least recently used. Default: no bound. */
      max?: number
      /** Most encoded key + value bytes kept, evicting least recently used entries. Default: no bound. */
      maxBytes?: number
    }

export interface Config<S extends CallbackStyle = CallbackStyle> {
  /**
   * Share the store of this name with every process of the same user on this machine that calls
   * init() with it (any mix of scripts): the first to bind the name's socket hosts the store, the
   * others connect, and when the host goes another is elected (its data is lost: the new host
   * starts empty). Under PM2 the instances of one app do this without the option. Linux only.
   * Cannot be combined with `manager` or with transport 'ipc'.
   */
  name?: string
  /** LRU or sliding-expiry bounds. Default: unbounded, as in 0.0.7. */
  cache?: CacheConfig
  /** Relay mode: the worker with this `cluster.worker.id` hosts the store and the master forwards to it. */
  manager?: number
  /** Milliseconds a request may wait for its reply before failing with ERR_TIMEOUT. Default 5000. */
  timeout?: number
  /** Milliseconds a worker waits for the store to be served before failing with ERR_NO_HOST. Default 3000. */
  connectTimeout?: number
  /**
   * Largest encoded value in bytes (its JSON text; with serialization 'advanced', the JSON string
   * holding the base64 of its V8 serialization); larger ones fail with ERR_VALUE_TOO_LARGE. Default 16 MiB.
   */
  maxValueSize?: number
  /**
   * 'value' (default): callbacks get the result only, as in 0.0.7, and failures are emitted as
   * 'error' on the controller. 'error-first': callbacks are called as `cb(err, result)`.
   */
  callbackStyle?: S
  /**
   * How workers reach the store. 'socket' (default): a local socket served by Rust threads in the
   * hosting process, which keeps serving while its JS thread is busy, and allows sync calls.
   * 'ipc': Node's cluster IPC channel only. Workers fall back to IPC when the socket cannot be used.
   */
  transport?: 'socket' | 'ipc'
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
  serialization?: 'json' | 'advanced'
  /**
   * Whether reads come straight from shared memory (Linux). Default true. The host publishes
   * its store to a segment every local worker maps read-only; a worker's get(), has(), mget() and
   * getSync() read it without sending a message (so they are served even while the host is busy or
   * frozen): async ones while nothing else of the worker is in flight, sync ones unless one of its
   * own writes is in flight, so it always reads its own writes. The reads count as uses (LRU order,
   * sliding expiry) and hits or misses as if the host had served them.
   * Set on the host, it decides whether the store is published; on a worker, whether it reads it.
   */
  sharedReads?: boolean
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

export interface LockOptions {
  /** How long the lock is held at most, in ms (default 30000). */
  lease?: number
  /** How long to wait for it, in ms (default 10000; 0: do not wait; Infinity: as long as it takes). */
  wait?: number
}

/** A held lock. */
export interface Lock {
  /** The key it was taken on. */
  readonly key: Key
  /** Larger than the token of every earlier grant: lets a resource refuse a holder whose lease ran out. */
  readonly token: number
  /** Lets it go; answers whether this holder still had it (false once its lease ran out). */
  release(callback?: (err: CallError | null, released?: boolean) => void): Promise<boolean>
  /** A new lease of `lease` ms from now; answers whether this holder still had it. */
  extend(lease: number, callback?: (err: CallError | null, held?: boolean) => void): Promise<boolean>
}

export type WatchEvent<T = any> =
  | { key: string; kind: 'set'; value: T }
  | { key: string; kind: 'delete' | 'expire' | 'evict'; value?: undefined }

/** Stops a watch; `ready` resolves once the store has it (changes from then on are seen). */
export interface StopWatching {
  (): Promise<boolean>
  readonly ready: Promise<void>
}

export interface TtlOption {
  /** Time to live in milliseconds; the key is removed when it runs out. */
  ttl?: number
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
   * change: a worker becomes 'master' when it is elected after the host went away.
   */
  readonly role: 'master' | 'worker' | 'manager'
  /** How this process reaches the store: 'local' (it hosts it), 'socket' or 'ipc'. Can change with `role`. */
  readonly transport: 'local' | 'socket' | 'ipc'
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
  /** A controller with the same API whose keys are apart from every other namespace's. */
  ns(name: string): Controller<S>

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
  set(key: Key, value: unknown, options: TtlOption, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** Stores every own property of `entries` in one step. Answers 'OK'. */
  set(entries: Record<string, unknown>, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** The value under `key`, or undefined when there is none. */
  get<T = any>(key: Key, callback?: Callback<S, T | undefined>): Promise<T | undefined>
  /** Removes `key`. Answers 'OK' whether or not it was there. */
  remove(key: Key, callback?: Callback<S, 'OK'>): Promise<'OK'>
  /** Atomically adds 1 to the number under `key` (a missing key counts as 0); answers the new number. */
  plusOne(key: Key, callback?: Callback<S, number>): Promise<number>

  /** Stores every own property of `entries`, all or none, optionally with one TTL. */
  mset(entries: Record<string, unknown>, options?: TtlOption, callback?: Callback<S, 'OK'>): Promise<'OK'>
  mset(entries: Record<string, unknown>, callback: Callback<S, 'OK'>): Promise<'OK'>
  /** The values of `keys`, in order, undefined where missing. */
  mget<T = any>(keys: Key[], callback?: Callback<S, Array<T | undefined>>): Promise<Array<T | undefined>>
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
  getSet<T = any>(key: Key, value: unknown, callback?: Callback<S, T | undefined>): Promise<T | undefined>
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
   * Calls `listener` for every change of a key of this namespace matching `pattern` (a key, or a
   * glob as keys()), made by any process, in the order the store applied them.
   */
  watch<T = any>(pattern: string, listener: (event: WatchEvent<T>) => void): StopWatching

  /**
   * Sync forms: they block until the reply arrives and throw on failure. They work in the process
   * that hosts the store and, over the socket transport, in workers once ready() has resolved
   * (before that they throw ERR_NOT_READY; over IPC, ERR_SYNC_UNAVAILABLE). Async calls made
   * earlier are applied first.
   */
  setSync(key: Key, value: unknown): 'OK'
  setSync(key: Key, value: unknown, options: TtlOption & ({ nx: true; xx?: false } | { xx: true; nx?: false })): boolean
  setSync(key: Key, value: unknown, options: TtlOption): 'OK'
  setSync(entries: Record<string, unknown>): 'OK'
  getSync<T = any>(key: Key): T | undefined
  removeSync(key: Key): 'OK'
  plusOneSync(key: Key): number
  msetSync(entries: Record<string, unknown>, options?: TtlOption): 'OK'
  mgetSync<T = any>(keys: Key[]): Array<T | undefined>
  deleteSync(key: Key): boolean
  hasSync(key: Key): boolean
  incrSync(key: Key, by?: number, options?: TtlOption): number
  incrSync(key: Key, options: TtlOption): number
  decrSync(key: Key, by?: number, options?: TtlOption): number
  decrSync(key: Key, options: TtlOption): number
  getSetSync<T = any>(key: Key, value: unknown): T | undefined
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
}>
