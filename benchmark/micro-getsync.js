'use strict'

// The napi path of a read from the shared segment, alone: one process
// publishes a store and reads it back through SharedReader, over 1k keys
// of string values: by the function a worker's getSync takes
// (`readFunction`: a raw napi call given the key itself), and by the
// general `get` (napi-rs's wrapper, given the stored key's JSON text). `node benchmark/micro-getsync.js [path/to/addon.node]` (default:
// this checkout's) prints ns per get; give another build's .node to compare.

const path = require('node:path')

const addon = require(path.resolve(process.argv[2] || path.join(__dirname, '..', 'sharedmemory.linux-x64-gnu.node')))
const KEYS = 1000
const ROUNDS = 2000

function main() {
  const store = new addon.NativeStore({ sharedReads: true }, () => {})
  const names = []
  const keys = []
  const sets = []
  for (let i = 0; i < KEYS; i++) {
    const key = JSON.stringify(`user:${i}`)
    names.push(`user:${i}`)
    keys.push(key)
    sets.push(`[${i},"set",${key},${JSON.stringify('v'.repeat(40) + i)}]`)
  }
  store.applyBatch(`[${sets.join(',')}]`)
  const reader = new addon.SharedReader(process.pid, store.segmentFd, 1000)
  const answer = new Int32Array(1)
  const read = reader.readFunction(answer)
  let sink = 0
  const paths = {
    'readFunction (key)': () => {
      for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < KEYS; i++) sink += read(names[i]).length + answer[0]
    },
    'get (stored key)': () => {
      for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < KEYS; i++) sink += reader.get(keys[i]).length
    },
  }
  for (const [name, loop] of Object.entries(paths)) {
    const run = () => {
      const start = process.hrtime.bigint()
      loop()
      reader.takeUses()
      return Number(process.hrtime.bigint() - start) / (ROUNDS * KEYS)
    }
    run() // warm up
    const runs = [run(), run(), run()].sort((a, b) => a - b)
    console.log(`SharedReader ${name}: ${runs[1].toFixed(0)} ns per read (median of 3 runs of ${ROUNDS * KEYS}; min ${runs[0].toFixed(0)})`)
  }
  if (sink === 0) console.log('unreachable')
}

main()
