// Compiled by __test__/session.spec.js with `tsc --noEmit`: session.d.ts, reached through the
// package's "exports" map ("sharedmemory/session") and by path. Every @ts-expect-error line must
// really be an error.

import SharedMemoryStore = require('sharedmemory/session')
import ByPath = require('../../session')
import { init } from 'sharedmemory'

const store = new SharedMemoryStore()
const same: ByPath = store
new SharedMemoryStore({ controller: init(), namespace: 'web', ttl: 60_000, disableTouch: true })
new SharedMemoryStore({ controller: init({ callbackStyle: 'error-first' }) })
new SharedMemoryStore.SharedMemoryStore({})

store.get('sid', (err: unknown, session) => {
  if (session) void [session.cookie.maxAge, session.user]
})
store.set('sid', { cookie: { maxAge: 1000 }, user: 'ada' }, (err) => void err)
store.set('sid', { cookie: { expires: new Date() } })
store.touch('sid', { cookie: {} })
store.destroy('sid')
store.all((err, sessions) => void sessions?.length)
store.length((err, n) => void (n === undefined ? 0 : n + 1))
store.clear()
store.on('error', () => {})
const namespace: string = store.namespace
void [same, namespace]

// @ts-expect-error ttl is a number of milliseconds
new SharedMemoryStore({ ttl: '1d' })
// @ts-expect-error no such option
new SharedMemoryStore({ prefix: 'sess:' })
// @ts-expect-error a session needs its cookie
store.set('sid', { user: 'ada' })
// @ts-expect-error get needs a callback
store.get('sid')
