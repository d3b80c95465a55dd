// Type definitions for sharedmemory/rate-limit: a store for express-rate-limit.
//
// Self-contained: express-rate-limit is the app's, not this package's. The
// class has the shape of express-rate-limit's `Store`, so an instance can be
// passed as `rateLimit({ store })`.

import type { CallbackStyle, Controller } from './index.js'

declare namespace RateLimitStore {
  interface Options {
    /** What `require('sharedmemory').init()` returned. Default: init()'s controller, taken on first use. */
    controller?: Controller<CallbackStyle> | undefined
    /** The namespace the counts are kept in. Default `'rate-limit'`. */
    namespace?: string | undefined
    /** Prepended to every key; give each limiter of the app its own. Default `'rl:'`. */
    prefix?: string | undefined
  }

  /** A client's hits in the current window, and when the window ends. */
  interface ClientRateLimitInfo {
    totalHits: number
    resetTime: Date | undefined
  }
}

/**
 * An express-rate-limit store whose counts are shared by every process of the app: exact across
 * workers (one atomic increment per hit), with each window a TTL that ends it.
 */
declare class RateLimitStore {
  constructor(options?: RateLimitStore.Options)
  /** Always false: the counts are not this process's alone. */
  readonly localKeys: false
  prefix: string
  /** The window's length in ms (from express-rate-limit's `windowMs`, through init()). */
  readonly windowMs: number
  init(options: { windowMs: number }): void
  get(key: string): Promise<RateLimitStore.ClientRateLimitInfo | undefined>
  increment(key: string): Promise<RateLimitStore.ClientRateLimitInfo>
  decrement(key: string): Promise<void>
  resetKey(key: string): Promise<void>
  resetAll(): Promise<void>

  static RateLimitStore: typeof RateLimitStore
  static default: typeof RateLimitStore
}

export = RateLimitStore
