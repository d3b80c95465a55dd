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
    controller?: Controller<CallbackStyle> | undefined
    /** The namespace the sessions are kept in (`controller.ns(namespace)`). Default `'sessions'`. */
    namespace?: string | undefined
    /** Milliseconds a session lives when its cookie has neither `expires` nor `maxAge`. Default 86400000 (1 day). */
    ttl?: number | undefined
    /** When true, `touch` does nothing: a session's TTL is set when it is saved, not extended on reads. Default false. */
    disableTouch?: boolean | undefined
  }

  /** The parts of express-session's cookie the store reads (it keeps the whole cookie). */
  interface SessionCookie {
    /** When the cookie, and so the session, expires: wins over `maxAge`. */
    expires?: Date | string | null | undefined
    /** Milliseconds the cookie has left. */
    maxAge?: number | null | undefined
    [property: string]: unknown
  }

  /** A session as express-session hands it to the store. */
  interface SessionData {
    cookie: SessionCookie
    [property: string]: unknown
  }
}

/**
 * An express-session store that keeps sessions in sharedmemory, so every worker of a cluster app
 * sees the same sessions. Extends express-session's `Store` (taken from the app's express-session).
 * Every method takes an error-first callback.
 */
declare class SharedMemoryStore<Session extends { cookie: object } = SharedMemoryStore.SessionData> extends EventEmitter {
  constructor(options?: SharedMemoryStore.Options)

  /** The namespace the sessions are kept in. */
  readonly namespace: string

  /**
   * The session stored under `sid` (what was stored, through JSON: `cookie.expires` is then an
   * ISO string, which express-session turns back into a Date), or undefined when there is none.
   * Its type is `Session`: name your session's shape as the class's type argument.
   */
  get(sid: string, callback: (err: unknown, session?: Session | null) => void): void
  /** Stores the session with a TTL following its cookie (an expired cookie removes it instead). */
  set(sid: string, session: Session, callback?: (err?: unknown) => void): void
  /** Removes the session. */
  destroy(sid: string, callback?: (err?: unknown) => void): void
  /** Restarts the session's TTL from its cookie (nothing when `disableTouch`, or when the session is gone). */
  touch(sid: string, session: Session, callback?: (err?: unknown) => void): void
  /** Every stored session. */
  all(callback: (err: unknown, sessions?: Session[] | null) => void): void
  /** How many sessions are stored. */
  length(callback: (err: unknown, length?: number) => void): void
  /** Removes every session (only this store's namespace is cleared). */
  clear(callback?: (err?: unknown) => void): void

  // Inherited from express-session's Store. createSession answers an instance of express-session's
  // Session class, which this file cannot name without importing express-session (the app's, not
  // a dependency): it stays `any`, the one place, so the store is still express-session's Store.
  regenerate(req: object, callback: (err?: unknown) => unknown): void
  load(sid: string, callback: (err: unknown, session?: Session) => unknown): void
  createSession(req: object, session: Session): any

  static SharedMemoryStore: typeof SharedMemoryStore
}

export = SharedMemoryStore
