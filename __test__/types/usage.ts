// Compiled by __test__/types.spec.js with `tsc --noEmit`: what must type-check
// does, and every @ts-expect-error line must really be an error.

import sharedmemory = require('../..')
import { init, SharedMemoryError, codes, defaults, type Controller, type ErrorCode } from '../..'

const sm: Controller = init({ cache: { type: 'LRU', max: 100 }, timeout: 1000 })
init({ cache: { type: 'expire', expire: 60000 } })
init({ cache: { type: 'expire', time: 60000 } })
init({ manager: 1, connectTimeout: 500, maxValueSize: 1024 })

async function promises(): Promise<void> {
  const ok: 'OK' = await sm.set('a', [0, 1, 2, 3])
  const okMany: 'OK' = await sm.set({ a: 1, b: 'two' })
  const value: number[] | undefined = await sm.get<number[]>('a')
  const removed: 'OK' = await sm.remove('a')
  const n: number = await sm.plusOne('n')
  await sm.get(5)
  await sm.ready()
  const transport: 'local' | 'socket' | 'ipc' = sm.transport
  void [ok, okMany, value, removed, n, transport]
}

function sync(): void {
  const ok: 'OK' = sm.setSync('a', { x: 1 })
  const okMany: 'OK' = sm.setSync({ a: 1 })
  const value: { x: number } | undefined = sm.getSync<{ x: number }>('a')
  const removed: 'OK' = sm.removeSync('a')
  const n: number = sm.plusOneSync('n')
  init({ transport: 'ipc' })
  void [ok, okMany, value, removed, n]
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

function mistakes(): void {
  // @ts-expect-error keys are strings or numbers
  sm.get({ a: 1 })
  // @ts-expect-error unknown cache type
  init({ cache: { type: 'LFU' } })
  // @ts-expect-error plusOne answers a number
  sm.plusOne('n').then((s: string) => s)
  // @ts-expect-error sync calls take no callback
  sm.getSync('a', () => {})
  // @ts-expect-error there are two transports
  init({ transport: 'tcp' })
  // @ts-expect-error value-style callbacks take one argument
  sm.get('a', (err: Error, value: unknown) => value)
}

void [promises, sync, callbacks, errors, mistakes]
