'use strict'

// getOrSet(key, fn, {ttl, lease, wait}): a missing value is computed once
// across every process of the store, however many ask for it at once.
//
//   1. the value is there: answered, fn is not called;
//   2. else the caller takes the lock of this key in the FLIGHTS namespace
//      (apart from the app's own locks), waiting its turn behind whoever
//      computes it now;
//   3. holding it, it looks again: a value another process stored while it
//      waited is answered; a failure another process recorded after this
//      call began is thrown (every waiter of that flight gets the same error,
//      and fn is not called again for them); otherwise it calls fn, stores
//      what fn answered (nothing for undefined), and releases the lock.
//
// A failure is kept under the same lock key in FLIGHTS for as long as a
// waiter of that flight may still wait, never in the caller's namespace,
// so nothing is cached on failure. The time a call began and the time a
// failure was recorded are both this machine's Date.now() (with Redis on
// several machines, their clocks' agreement bounds which waiters share an
// error).

const { SharedMemoryError, shown } = require('./errors')

/** The namespace holding the flights' locks and the failures they record. */
const FLIGHTS = 'sharedmemory:flights'

/** How long fn may run (the lock's lease) and how long a caller waits its turn, by default (ms). */
const LEASE = 30_000
const WAIT = 30_000

/** The longest a recorded failure is kept (ms): waiters beyond it time out anyway, or compute again. */
const FAILURE_KEPT_MAX = 60_000

async function getOrSet(controller, key, fn, options) {
  const began = Date.now()
  if (typeof fn !== 'function') throw invalid('getOrSet() takes the key, then a function computing the value')
  const { ttl, lease, wait } = flightOptions(options)
  const found = await controller.get(key)
  if (found !== undefined) return found

  const flights = controller.ns(FLIGHTS)
  const flight = JSON.stringify([controller.namespace, String(key)])
  const lock = await flights.lock(flight, { lease, wait })
  try {
    const stored = await controller.get(key)
    if (stored !== undefined) return stored
    const failure = await flights.get(flight)
    if (failure && typeof failure.at === 'number' && failure.at >= began) throw rebuilt(failure)

    let value
    try {
      value = await fn()
    } catch (err) {
      const kept = Math.max(1000, Math.min(wait, FAILURE_KEPT_MAX))
      await flights.set(flight, recorded(err), { ttl: kept }).catch(() => {})
      throw err
    }
    if (value !== undefined) await controller.set(key, value, ttl === undefined ? undefined : { ttl })
    return value
  } finally {
    await lock.release().catch(() => {})
  }
}

function flightOptions(options) {
  if (options === undefined || options === null) return { ttl: undefined, lease: LEASE, wait: WAIT }
  if (typeof options !== 'object') throw invalid('getOrSet() options must be an object like {ttl, lease, wait}')
  for (const name of Object.keys(options)) {
    if (name !== 'ttl' && name !== 'lease' && name !== 'wait') throw invalid(`unknown option ${name} (getOrSet() takes ttl, lease, wait)`)
  }
  if (options.ttl !== undefined && !(typeof options.ttl === 'number' && Number.isFinite(options.ttl) && options.ttl > 0)) {
    throw invalid(`ttl is a number of milliseconds above 0, got ${shown(options.ttl)}`)
  }
  return {
    ttl: options.ttl,
    lease: options.lease === undefined ? LEASE : options.lease,
    wait: options.wait === undefined ? WAIT : options.wait,
  }
}

/** What a waiter needs of an error: its class name, message and code, and when it happened. */
function recorded(err) {
  const error = err instanceof Error ? err : new Error(String(err))
  return { at: Date.now(), name: error.name, message: error.message, code: error.code === undefined ? null : String(error.code) }
}

/** The error of another process's fn, as this process's Error, with `computedElsewhere: true`. */
function rebuilt(failure) {
  const error = new Error(String(failure.message))
  if (typeof failure.name === 'string') error.name = failure.name
  if (failure.code !== null && failure.code !== undefined) error.code = String(failure.code)
  error.computedElsewhere = true
  return error
}

function invalid(message) {
  return new SharedMemoryError('ERR_INVALID_ARGUMENT', `sharedmemory: ${message}`)
}

module.exports = { getOrSet, FLIGHTS }
