// Type definitions for sharedmemory/keyv: a Keyv storage adapter.
//
// Self-contained: keyv is the app's, not this package's. The class has the
// shape of Keyv's `KeyvStoreAdapter`, so an instance can be passed as
// `new Keyv({ store })` (and so to cache-manager's `createCache({ stores })`).

import { EventEmitter } from 'node:events'

import type { CallbackStyle, Controller } from './index.js'

declare namespace KeyvSharedMemory {
  interface Options {
    /** What `require('sharedmemory').init()` returned. Default: init()'s controller, taken on first use. */
    controller?: Controller<CallbackStyle> | undefined
    /** The sharedmemory namespace the entries are kept in (Keyv's own namespace prefixes the keys). Default `'keyv'`. */
    namespace?: string | undefined
  }
}

/** A Keyv storage adapter whose entries every process of the app shares, each with the TTL Keyv gives. */
declare class KeyvSharedMemory extends EventEmitter {
  constructor(options?: KeyvSharedMemory.Options)
  /** Set by Keyv: the Keyv namespace whose keys this adapter holds. */
  namespace?: string | undefined
  opts: { dialect: 'sharedmemory'; namespace: string }
  get<Value = unknown>(key: string): Promise<Value | undefined>
  getMany<Value = unknown>(keys: string[]): Promise<Array<Value | undefined>>
  set(key: string, value: unknown, ttl?: number): Promise<boolean>
  setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<boolean[]>
  delete(key: string): Promise<boolean>
  deleteMany(keys: string[]): Promise<boolean>
  has(key: string): Promise<boolean>
  hasMany(keys: string[]): Promise<boolean[]>
  /** Removes the keys of this adapter's Keyv namespace (every key of its store namespace without one). */
  clear(): Promise<void>
  /** Does nothing: the link to the store is the app's (controller.close()). */
  disconnect(): Promise<void>

  static KeyvSharedMemory: typeof KeyvSharedMemory
  static default: typeof KeyvSharedMemory
}

export = KeyvSharedMemory
