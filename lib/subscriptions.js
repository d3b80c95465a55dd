'use strict'

// A batching backend's watch subscriptions (see src/watch.rs): the
// listener of each subscription id, and the delivery of the event pushes
// the host sends ('~' followed by JSON, see lib/backends/batching.js).
//
// A watch lives in the store's host. When the host changes (a store elected
// by name moves to a new host), every watch is marked stale; once a new
// host serves, the backend starts each again there (same id) and, once it
// has it, the listener gets {kind: 'reset'}: events between the old host's
// last and the new host's first may have been missed.

class Subscriptions {
  #listeners = new Map() // subscription id -> {listener({key, kind, value}), pattern, ns, stale}
  #next = 1
  /** Called with how many watch event pushes the host dropped because this process fell behind. */
  onOverflow = null

  /** Registers `listener` for `pattern` in namespace `ns` and answers its subscription id. */
  add(listener, pattern, ns) {
    const id = this.#next++
    this.#listeners.set(id, { listener, pattern, ns, stale: false })
    return id
  }

  /** The host went away: every watch must be started again on the next one. */
  staleAll() {
    for (const subscription of this.#listeners.values()) subscription.stale = true
  }

  /** The stale watches, [{id, pattern, ns}], now marked as being started again. */
  takeStale() {
    const stale = []
    for (const [id, subscription] of this.#listeners) {
      if (!subscription.stale) continue
      subscription.stale = false
      stale.push({ id, pattern: subscription.pattern, ns: subscription.ns })
    }
    return stale
  }

  /** Watch `id` failed to start again: stale still, for the host after. */
  markStale(id) {
    const subscription = this.#listeners.get(id)
    if (subscription) subscription.stale = true
  }

  /** Watch `id` was started again on a new host: its listener hears {kind: 'reset'}. */
  reset(id) {
    const subscription = this.#listeners.get(id)
    if (subscription) call(subscription.listener, { key: undefined, kind: 'reset', value: undefined })
  }

  /** Forgets subscription `id`; answers whether it existed. */
  delete(id) {
    return this.#listeners.delete(id)
  }

  /**
   * An event push without its '~': either `[[id, kind, key, value?], ...]`
   * or `{lost: n}` when the host dropped pushes.
   */
  deliver(text) {
    let events
    try {
      events = JSON.parse(text)
    } catch {
      return
    }
    if (!Array.isArray(events)) {
      if (events && Number.isInteger(events.lost) && this.onOverflow) this.onOverflow(events.lost)
      return
    }
    for (const event of events) {
      const subscription = Array.isArray(event) && this.#listeners.get(event[0])
      if (!subscription) continue // unsubscribed meanwhile
      call(subscription.listener, { key: event[2], kind: event[1], value: event[3] })
    }
  }
}

function call(listener, event) {
  try {
    listener(event)
  } catch (err) {
    // As with an EventEmitter listener: the app's own error, thrown where the app sees it.
    process.nextTick(() => {
      throw err
    })
  }
}

module.exports = { Subscriptions }
