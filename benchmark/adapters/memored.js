'use strict'

// memored 1.1.1: requiring it in the master hooks every forked worker, so the
// master requires it before forking. Callback API (err, value). No atomic
// increment, so `incr` is read + store (updates can be lost).

const NAME = 'memored'

function primary() {
  require(NAME)
}

async function worker() {
  const memored = require(NAME)
  const read = (key) =>
    new Promise((resolve, reject) => memored.read(key, (err, value) => (err ? reject(err) : resolve(value))))
  const store = (key, value) =>
    new Promise((resolve, reject) => memored.store(key, value, (err) => (err ? reject(err) : resolve('OK'))))
  const multiStore = (map) =>
    new Promise((resolve, reject) => memored.multiStore(map, (err) => (err ? reject(err) : resolve('OK'))))
  return {
    get: read,
    set: store,
    incr: async (key) => {
      const next = ((await read(key)) || 0) + 1
      await store(key, next)
      return next
    },
    preload: async (entries) => {
      for (let i = 0; i < entries.length; i += 1000) await multiStore(Object.fromEntries(entries.slice(i, i + 1000)))
    },
    close: async () => {},
  }
}

module.exports = { primary, worker, atomicIncr: false }
