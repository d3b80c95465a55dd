// Compiled by __test__/types.spec.js under strict and exactOptionalPropertyTypes: the adapters
// (sharedmemory/session, /rate-limit, /keyv) as the packages they plug into type them.

import session = require('express-session')
import { rateLimit } from 'express-rate-limit'
import { Keyv } from 'keyv'
import { createCache } from 'cache-manager'

import SharedMemoryStore = require('sharedmemory/session')
import RateLimitStore = require('sharedmemory/rate-limit')
import KeyvSharedMemory = require('sharedmemory/keyv')
import { init } from 'sharedmemory'

const memory = init()

// express-session's own types accept the store.
session({ store: new SharedMemoryStore(), secret: 's', resave: false, saveUninitialized: false })
session({ store: new SharedMemoryStore({ controller: memory, namespace: 'web' }), secret: 's' })

// The session a store hands back is typed, not any.
new SharedMemoryStore().get('sid', (err, stored) => {
  if (!stored) return
  const maxAge: number | null | undefined = stored.cookie.maxAge
  // @ts-expect-error an unknown field is unknown, not any
  const user: string = stored.user
  void [err, maxAge, user]
})
interface MySession {
  cookie: SharedMemoryStore.SessionCookie
  user: string
}
new SharedMemoryStore<MySession>().get('sid', (err, stored) => {
  const user: string | undefined = stored?.user
  void [err, user]
})

// express-rate-limit's types accept the store.
rateLimit({ windowMs: 60_000, limit: 100, store: new RateLimitStore({ prefix: 'api:' }) })
async function rateLimits(): Promise<void> {
  const info = await new RateLimitStore().increment('ip')
  const hits: number = info.totalHits
  const reset: Date | undefined = info.resetTime
  void [hits, reset]
}

// Keyv's and cache-manager's types accept the adapter.
const keyv = new Keyv({ store: new KeyvSharedMemory(), namespace: 'users' })
const cache = createCache({ stores: [new Keyv({ store: new KeyvSharedMemory({ namespace: 'cache' }) })] })
async function caches(): Promise<void> {
  const report: { rows: number[] } = await cache.wrap('report', async () => ({ rows: [1] }), 60_000)
  await keyv.set('ada', { name: 'Ada' }, 1000)
  void report
}

void [rateLimits, caches]
