'use strict'

// What the results file records besides the figures: the machine, the
// versions of everything measured, and the flags, so runs can be compared.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const PACKAGES = ['cluster-shared-memory', 'memored', 'lru-cache-for-clusters-as-promised', 'ioredis', 'lmdb']

function version(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}

function machine() {
  const cpus = os.cpus()
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0] ? cpus[0].model : 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    hostname: os.hostname(),
  }
}

function versions(redisVersion) {
  const out = { node: process.version, sharedmemory: version(ROOT) }
  for (const name of PACKAGES) out[name] = version(path.join(ROOT, 'node_modules', name))
  out['redis-server'] = redisVersion || null
  return out
}

function write(file, results) {
  const target = path.resolve(ROOT, file)
  fs.mkdirSync(path.dirname(target), { recursive: true })
  fs.writeFileSync(target, JSON.stringify(results, null, 2) + '\n')
  return target
}

module.exports = { machine, versions, write, ROOT }
