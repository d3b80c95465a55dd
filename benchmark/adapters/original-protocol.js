'use strict'

// `baseline`: the wire protocol of the original sharedmemory 0.0.7, rebuilt
// for this benchmark. Every request is one `process.send` message from the
// worker to the master, shaped as 0.0.7's:
//   {isSharedMemoryMessage: true, method, id: <worker id>, uuid, key, value}
// and the master answers each one with one message:
//   {isSharedMemoryMessage: true, id, uuid, value}
// The master keeps the values in a Map (0.0.7 used a plain object); the
// worker keeps its pending callbacks in a table keyed by uuid, which 0.0.7
// built as `Date.now() + '-' + counter`.
//
// Two deliberate differences, both in the baseline's favour: `plusOne` is
// answered with the new number (0.0.7 answered 'OK' and never called the
// callback, so a caller needed a second round trip to know it was applied),
// and answered callbacks are deleted from the table (0.0.7 set them to
// undefined, so the table grew by one property per request).

const cluster = require('node:cluster')

const TAG = 'isSharedMemoryMessage'

function primary() {
  const memory = new Map()
  const methods = {
    get: (msg) => memory.get(msg.key),
    set: (msg) => {
      if (msg.key !== undefined && msg.key !== null) memory.set(msg.key, msg.value)
      else for (const k of Object.keys(msg.value)) memory.set(k, msg.value[k])
      return 'OK'
    },
    plusOne: (msg) => {
      const next = (memory.get(msg.key) || 0) + 1
      memory.set(msg.key, next)
      return next
    },
  }
  cluster.on('online', (worker) => {
    worker.on('message', (msg) => {
      if (!msg || !msg[TAG]) return
      const value = methods[msg.method](msg)
      worker.send({ [TAG]: true, id: msg.id, uuid: msg.uuid, value })
    })
  })
}

async function worker() {
  const callbacks = new Map()
  let counter = 0
  process.on('message', (msg) => {
    if (!msg || !msg[TAG]) return
    const cb = callbacks.get(msg.uuid)
    callbacks.delete(msg.uuid)
    if (cb) cb(msg.value)
  })
  const request = (method, key, value) =>
    new Promise((resolve) => {
      counter = counter > 65535 ? 0 : counter + 1
      const uuid = Date.now() + '-' + counter
      callbacks.set(uuid, resolve)
      process.send({ [TAG]: true, method, id: cluster.worker.id, uuid, key, value })
    })
  return {
    get: (key) => request('get', key, null),
    set: (key, value) => request('set', key, value),
    incr: (key) => request('plusOne', key, undefined),
    preload: async (entries) => {
      for (let i = 0; i < entries.length; i += 1000) {
        await request('set', undefined, Object.fromEntries(entries.slice(i, i + 1000)))
      }
    },
    close: async () => {},
  }
}

module.exports = { primary, worker }
