'use strict'

// This package, loaded from the project root, as the app would
// `require('sharedmemory')`. Options: `transport` ('socket' by default, or
// 'ipc') and `sharedReads` (default true), passed to init() in the master
// and in every worker.

const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')

function load(options) {
  return require(ROOT).init({ transport: options.transport || 'socket', sharedReads: options.sharedReads !== false })
}

function primary(ctx) {
  load(ctx.options)
}

async function worker(ctx) {
  const sm = load(ctx.options)
  await sm.ready()
  return operations(sm, async () => {})
}

/** What the benchmark calls on a worker, over a controller `sm` (also the Redis backend's adapter). */
function operations(sm, close) {
  return {
    get: (key) => sm.get(key),
    set: (key, value) => sm.set(key, value),
    incr: (key) => sm.plusOne(key),
    getSync: (key) => sm.getSync(key),
    preload: async (entries) => {
      for (let i = 0; i < entries.length; i += 1000) {
        await sm.mset(Object.fromEntries(entries.slice(i, i + 1000)))
      }
    },
    close,
  }
}

module.exports = { primary, worker, operations, ROOT }
