'use strict'

// cluster-shared-memory 1.1.5: requiring it in the master starts its manager.
// Promises only: passing a callback makes it send every request twice.
// It has no atomic increment, so `incr` is get + set (updates can be lost).

const NAME = 'cluster-shared-memory'

function primary() {
  require(NAME)
}

async function worker() {
  const csm = require(NAME)
  return {
    get: (key) => csm.get(key),
    set: (key, value) => csm.set(key, value),
    incr: async (key) => {
      const next = ((await csm.get(key)) || 0) + 1
      await csm.set(key, next)
      return next
    },
    close: async () => {},
  }
}

module.exports = { primary, worker, atomicIncr: false }
