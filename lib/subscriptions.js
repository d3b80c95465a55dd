'use strict'

// A batching backend's watch subscriptions (see src/watch.rs): the
// listener of each subscription id, and the delivery of the event pushes
// the host sends ('~' followed by JSON, see lib/backends/batching.js).

class Subscriptions {
  #listeners = new Map() // subscription id -> listener({key, kind, value})
  #next = 1
  /** Called with how many watch event pushes the host dropped because this process fell behind. */
  onOverflow = null

  /** Registers `listener` and answers its subscription id. */
  add(listener) {
    const id = this.#next++
    this.#listeners.set(id, listener)
    return id
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
      const listener = Array.isArray(event) && this.#listeners.get(event[0])
      if (!listener) continue // unsubscribed meanwhile
      try {
        listener({ key: event[2], kind: event[1], value: event[3] })
      } catch (err) {
        // As with an EventEmitter listener: the app's own error, thrown where the app sees it.
        process.nextTick(() => {
          throw err
        })
      }
    }
  }
}

module.exports = { Subscriptions }
