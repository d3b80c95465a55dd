'use strict'

// This package's Redis backend (init({redis})), against the redis-server the
// benchmark started on 127.0.0.1 (ctx.redisPort), as the ioredis peers are.
// Option `near`: with the near-cache (nearCache: {}). The master empties the
// database (FLUSHALL, through ioredis) before the workers start.

const { ROOT, operations } = require('./sharedmemory')
const ioredis = require('./ioredis')

function load(ctx) {
  const config = { redis: { url: `redis://127.0.0.1:${ctx.redisPort}`, prefix: 'bench:' } }
  if (ctx.options.near) config.nearCache = {}
  return require(ROOT).init(config)
}

function primary(ctx) {
  return ioredis.primary(ctx)
}

async function worker(ctx) {
  const sm = load(ctx)
  await sm.ready()
  return operations(sm, () => sm.close())
}

module.exports = { primary, worker }
