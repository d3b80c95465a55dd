'use strict'

// lmdb 3 (memory-mapped B+tree): every worker opens the same environment, in a
// fresh temp dir under /dev/shm made by the master for this measurement
// (ctx.lmdbPath), with noSync (no fsync; no durability needed here).
// Reads are synchronous mmap lookups; writes are putSync (one write
// transaction each); the increment is get + put inside transactionSync.

const { open } = require('lmdb')

const OPTIONS = { noSync: true }

function primary(ctx) {
  // Create the environment once, before the workers open it concurrently.
  const db = open({ path: ctx.lmdbPath, ...OPTIONS })
  db.putSync('__created__', 1)
  return db.close()
}

async function worker(ctx) {
  const db = open({ path: ctx.lmdbPath, ...OPTIONS })
  const get = (key) => db.get(key)
  return {
    get,
    getSync: get,
    set: (key, value) => db.putSync(key, value),
    incr: (key) =>
      db.transactionSync(() => {
        const next = (db.get(key) || 0) + 1
        db.put(key, next)
        return next
      }),
    preload: async (entries) => {
      db.transactionSync(() => {
        for (const [key, value] of entries) db.put(key, value)
      })
    },
    close: () => db.close(),
  }
}

module.exports = { primary, worker }
