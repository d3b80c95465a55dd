'use strict'

// The command line of sharedmemory-host (bin/sharedmemory-host.js): turns
// its arguments into the init() config of the store it hosts.

const { parseArgs } = require('node:util')

const USAGE = `usage: sharedmemory-host --name <name> [options]

Hosts the store <name> for this user's processes on this machine, which
reach it with init({name: '<name>', host: 'external'}), until SIGINT or
SIGTERM (then it writes its last snapshot, with --persist, and exits 0).

  --name <name>            the store's name (required)
  --persist <file>         keep the store in <file>: loaded at start, written every --interval
  --interval <ms>          ms between snapshots (default 1000; written only when the store changed)
  --max <n>                keep at most n entries, evicting the least recently used
  --max-bytes <n>          keep at most n bytes of keys and values, evicting the least recently used
                           (without --max or --expire: with at most 10000 entries, the LRU default)
  --expire <ms>            remove an entry not read or written for ms (sliding expiry)
  --max-value-size <bytes> largest value stored (default 16 MiB)
  --serialization <json|advanced>  what the clients use (default json)
  --no-shared-reads        clients ask the host for every read (no shared segment)
  --help                   this text`

const OPTIONS = {
  name: { type: 'string' },
  persist: { type: 'string' },
  interval: { type: 'string' },
  max: { type: 'string' },
  'max-bytes': { type: 'string' },
  expire: { type: 'string' },
  'max-value-size': { type: 'string' },
  serialization: { type: 'string' },
  'no-shared-reads': { type: 'boolean' },
  help: { type: 'boolean' },
}

/** A command-line mistake: the message is printed with the usage, and the exit code is 2. */
class UsageError extends Error {}

/** Answers {help: true}, or {config} for init(); throws a UsageError on a bad command line. */
function parseHostArgs(argv) {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }))
  } catch (err) {
    throw new UsageError(err.message)
  }
  if (values.help) return { help: true }
  if (!values.name) throw new UsageError('--name is required')
  const number = (flag) => {
    if (values[flag] === undefined) return undefined
    const n = Number(values[flag])
    if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`--${flag} takes a positive number, got ${values[flag]}`)
    return n
  }
  const config = { name: values.name }
  const max = number('max')
  const maxBytes = number('max-bytes')
  const expire = number('expire')
  if (expire !== undefined) config.cache = { type: 'expire', expire, max, maxBytes }
  else if (max !== undefined || maxBytes !== undefined) config.cache = { type: 'LRU', max, maxBytes }
  if (config.cache) for (const key of Object.keys(config.cache)) if (config.cache[key] === undefined) delete config.cache[key]
  const maxValueSize = number('max-value-size')
  if (maxValueSize !== undefined) config.maxValueSize = maxValueSize
  if (values.serialization !== undefined) config.serialization = values.serialization
  if (values['no-shared-reads']) config.sharedReads = false
  if (values.persist !== undefined) config.persist = { path: values.persist, interval: number('interval') }
  else if (values.interval !== undefined) throw new UsageError('--interval needs --persist')
  if (config.persist && config.persist.interval === undefined) delete config.persist.interval
  return { config }
}

module.exports = { parseHostArgs, UsageError, USAGE }
