// Type definitions for sharedmemory/session: an express-session store.
//
// Self-contained on purpose: express-session (and @types/express-session) are
// the app's, not this package's, so nothing here imports them. The class
// declares the shape express-session's Store has, so an instance can be
// passed as `session({ store })` whether or not @types/express-session is
// installed.

import { EventEmitter } from 'node:events'

import type { CallbackStyle, Controller } from './index.js'

declare namespace SharedMemoryStore {
  interface Options {
    /**
     * The controller the sessions are stored through: what `require('sharedmemory').init()`
     * returned. Default: `init()`'s controller, taken when the store is first used (so the app may
     * call `init(config)` after creating the store).
     */
    controller?: Controller<CallbackStyle>
    /** The namespace the sessions are kept in (`controller.ns(namespace)`). Default `'sessions'`. */
    namespace?: string
    /** Milliseconds a session lives when its cookie has neither `expires` nor `maxAge`. Default 86400000 (1 day). */
    ttl?: number
    /** When true, `touch` does nothing: a session's TTL is set when it is saved, not extended on reads. Default false. */
    disableTouch?: boolean
  }

  /** The parts of express-session's cookie the store reads (it keeps the whole cookie). */
  interface SessionCookie {
    /** When the cookie, and so the session, expires: wins over `maxAge`. */
    expires?: Date | string | null
    /** Milliseconds the cookie has left. */
    maxAge?: number | null
    [property: string]: any
  }

  /** A session as express-session hands it to the store. */
  interface SessionData {
    cookie: SessionCookie
    [property: string]: any
  }

  /**
   * A session as the store hands it back: what was stored, through JSON (`cookie.expires` is then
   * an ISO string; express-session turns it back into a Date). It is `any` so that it is also
   * express-session's own `SessionData`, with whatever fields the app declared on it.
   */
  type StoredSession = any
}

/**
 * An express-session store that keeps sessions in sharedmemory, so every worker of a cluster app
 * sees the same sessions. Extends express-session's `Store` (taken from the app's express-session).
 * Every method takes an error-first callback.
 */
declare class SharedMemoryStore extends EventEmitter {
  constructor(options?: SharedMemoryStore.Options)

  /** The namespace the sessions are kept in. */
  readonly namespace: string

  /** The session stored under `sid`, or undefined when there is none. */
  get(sid: string, callback: (err: any, session?: SharedMemoryStore.StoredSession | null) => void): void
  /** Stores the session with a TTL following its cookie (an expired cookie removes it instead). */
  set(sid: string, session: SharedMemoryStore.SessionData, callback?: (err?: any) => void): void
  /** Removes the session. */
  destroy(sid: string, callback?: (err?: any) => void): void
  /** Restarts the session's TTL from its cookie (nothing when `disableTouch`, or when the session is gone). */
  touch(sid: string, session: SharedMemoryStore.SessionData, callback?: (err?: any) => void): void
  /** Every stored session. */
  all(callback: (err: any, sessions?: SharedMemoryStore.StoredSession[] | null) => void): void
  /** How many sessions are stored. */
  length(callback: (err: any, length?: number) => void): void
  /** Removes every session (only this store's namespace is cleared). */
  clear(callback?: (err?: any) => void): void

  // Inherited from express-session's Store.
  regenerate(req: any, callback: (err?: any) => any): void
  load(sid: string, callback: (err: any, session?: any) => any): void
  createSession(req: any, session: SharedMemoryStore.SessionData): any

  static SharedMemoryStore: typeof SharedMemoryStore
}

export = SharedMemoryStore
