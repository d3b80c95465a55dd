'use strict'

// Workload E: keeps the master's JS thread busy with a synchronous loop for
// `busyMs` out of every `periodMs`, from `from` until `until` (Date.now()
// times). Resolves with the busy share actually achieved.

function keepBusy({ busyMs, periodMs }, from, until) {
  return new Promise((resolve) => {
    let busy = 0
    const cycle = () => {
      const start = Date.now()
      if (start >= until) return resolve(busy / Math.max(1, until - from))
      const stop = Math.min(start + busyMs, until)
      while (Date.now() < stop) {
        // spin: the event loop cannot run
      }
      busy += stop - start
      setTimeout(cycle, periodMs - busyMs)
    }
    setTimeout(cycle, Math.max(0, from - Date.now()))
  })
}

module.exports = { keepBusy }
