'use strict'

// Redis through ioredis 5, one connection per worker, to the redis-server the
// benchmark started on 127.0.0.1 (ctx.redisPort). Values are JSON strings;
// the counter is INCR. Option `autopipe` turns on enableAutoPipelining.
// The master empties the database (FLUSHALL) before the workers start.

const Redis = require('ioredis')

function connect(ctx) {
  return new Redis({
    host: '127.0.0.1',
    port: ctx.redisPort,
    enableAutoPipelining: Boolean(ctx.options.autopipe),
    maxRetriesPerRequest: 1,
  })
}

async function primary(ctx) {
  const redis = connect(ctx)
  await redis.flushall()
  await redis.quit()
}

async function worker(ctx) {
  const redis = connect(ctx)
  const parse = (text) => (text === null ? undefined : JSON.parse(text))
  return {
    get: async (key) => parse(await redis.get(key)),
    set: (key, value) => redis.set(key, JSON.stringify(value)),
    incr: (key) => redis.incr(key),
    preload: async (entries) => {
      for (let i = 0; i < entries.length; i += 1000) {
        const pipeline = redis.pipeline()
        for (const [key, value] of entries.slice(i, i + 1000)) pipeline.set(key, JSON.stringify(value))
        await pipeline.exec()
      }
    },
    close: async () => {
      await redis.quit()
    },
  }
}

module.exports = { primary, worker }
