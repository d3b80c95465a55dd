'use strict'

// The napi path of a read from the shared segment, alone: one process
// publishes a store and reads it back through SharedReader (as a worker's
// getSync does, without the controller around it), over 1k keys of string
// values. `node benchmark/micro-getsync.js [path/to/addon.node]` (default:
// this checkout's) prints ns per get; give another build's .node to compare.

const path = require('node:path')

const addon = require(path.resolve(process.argv[2] || path.join(__dirname, '..', 'sharedmemory.linux-x64-gnu.node')))
const KEYS = 1000
const ROUNDS = 2000

function main() {
  const store = new addon.NativeStore({ sharedReads: true }, () => {})
  const keys = []
  const sets = []
  for (let i = 0; i < KEYS; i++) {
    const key = JSON.stringify(`user:${i}`)
    keys.push(key)
    sets.push(`[${i},"set",${key},${JSON.stringify('v'.repeat(40) + i)}]`)
  }
  store.applyBatch(`[${sets.join(',')}]`)
  const reader = new addon.SharedReader(process.pid, store.segmentFd, 1000)
  let sink = 0
  const run = () => {
    const start = process.hrtime.bigint()
    for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < KEYS; i++) sink += reader.get(keys[i]).length
    return Number(process.hrtime.bigint() - start) / (ROUNDS * KEYS)
  }
  run() // warm up
  const runs = [run(), run(), run()].sort((a, b) => a - b)
  reader.takeUses()
  console.log(`SharedReader.get: ${runs[1].toFixed(0)} ns per get (median of 3 runs of ${ROUNDS * KEYS}; min ${runs[0].toFixed(0)})`)
  if (sink === 0) console.log('unreachable')
}

main()
