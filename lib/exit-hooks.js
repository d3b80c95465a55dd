'use strict'

// When a process that hosts a persisted store ends gracefully, the store's
// last snapshot must be written first (lib/persistence.js). This finds
// those moments without changing how the app itself ends:
//
//   'exit'             process.exit(), or the event loop running out: the
//                      handler runs synchronously, and so does the write.
//   SIGINT, SIGTERM    only when nothing else of the app listens for that
//                      signal, which is when Node would end the process at
//                      once without an 'exit' event. Then the snapshot is
//                      written, the listener removed and the signal raised
//                      again, so the process still ends *by the signal*, as
//                      it would have without us (a shell sees 130 / 143).
//                      When the app listens too, the app decides: nothing is
//                      done here, and its own process.exit() (or the loop
//                      running out) reaches the 'exit' hook. Listening does
//                      not change the default for an app that has no
//                      listener, since we end the process just as Node would.
//   'shutdown'         PM2's message, sent instead of SIGINT to apps started
//                      with shutdown_with_message; listened for only then
//                      (so no IPC channel is kept open otherwise). The store
//                      is handed over; ending the process stays the app's
//                      (or PM2's, after kill_timeout) business.
//
// An uncaught exception ends the process through 'exit' too. SIGKILL (and
// so an OOM kill, or PM2 after kill_timeout), a signal the app handles by
// ending without 'exit' (process.abort, process.reallyExit), or a native
// crash give no chance: the last periodic snapshot is what survives them.

const SIGNALS = ['SIGINT', 'SIGTERM']

/**
 * Calls `handOver(why)` (why: 'exit', 'SIGINT', 'SIGTERM' or 'shutdown')
 * at the first graceful end of this process; answers a function that
 * removes every hook.
 */
function onGracefulExit(handOver) {
  const listeners = new Map()
  const remove = () => {
    for (const [event, listener] of listeners) process.off(event, listener)
    listeners.clear()
  }
  const add = (event, listener) => {
    listeners.set(event, listener)
    process.on(event, listener)
  }
  add('exit', () => {
    remove()
    handOver('exit')
  })
  for (const signal of SIGNALS) {
    add(signal, () => {
      if (process.listenerCount(signal) > 1) return // the app handles it (and will exit through 'exit')
      remove()
      handOver(signal)
      // No listener is left, so the signal's default disposition is back: it ends the process.
      process.kill(process.pid, signal)
    })
  }
  if (process.env.pm_id !== undefined && process.env.shutdown_with_message === 'true' && typeof process.send === 'function') {
    add('message', (message) => {
      if (message === 'shutdown') {
        remove()
        handOver('shutdown')
      }
    })
  }
  return remove
}

module.exports = { onGracefulExit, SIGNALS }
