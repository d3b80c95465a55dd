'use strict'

// Memory test for Redis: the same entries (values as the same JSON text),
// loaded with pipelined SETs into an empty database; INFO memory's
// used_memory before and after, and the server's VmRSS.

const Redis = require('ioredis')
const { rssBytes } = require('../proc')
const { BATCH, entryKey, entryValue } = require('./data')

async function usedMemory(redis) {
  const info = await redis.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)[1])
}

async function measureRedis(server, entries) {
  const redis = new Redis({ host: '127.0.0.1', port: server.port })
  try {
    await redis.flushall()
    const before = await usedMemory(redis)
    const rssBefore = rssBytes(server.pid)
    const t0 = Date.now()
    for (let i = 0; i < entries; i += BATCH) {
      const pipeline = redis.pipeline()
      for (let j = i; j < Math.min(entries, i + BATCH); j++) pipeline.set(entryKey(j), JSON.stringify(entryValue(j)))
      await pipeline.exec()
    }
    const loadMs = Date.now() - t0
    const after = await usedMemory(redis)
    const result = { entries: await redis.dbsize(), usedBefore: before, usedAfter: after, rssBefore, rssAfter: rssBytes(server.pid), loadMs }
    await redis.flushall()
    return result
  } finally {
    redis.disconnect()
  }
}

module.exports = { measureRedis }
