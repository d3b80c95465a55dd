'use strict'

// lru-cache-for-clusters-as-promised 1.7.4: init() in the master, an instance
// per worker. Its default 100 ms timeout resolves `undefined` silently, so we
// give it 30 s and make a timeout reject. `incr` is its atomic increment.

const NAME = 'lru-cache-for-clusters-as-promised'

const OPTIONS = { namespace: 'benchmark', max: 2000000, timeout: 30000, failsafe: 'reject' }

function primary() {
  require(NAME).init()
}

async function worker() {
  const LRUCache = require(NAME)
  const cache = await LRUCache.getInstance(OPTIONS)
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    incr: (key) => cache.incr(key),
    preload: async (entries) => {
      for (let i = 0; i < entries.length; i += 1000) await cache.mSet(Object.fromEntries(entries.slice(i, i + 1000)))
    },
    close: async () => {},
  }
}

module.exports = { primary, worker }
