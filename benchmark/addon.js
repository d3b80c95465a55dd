'use strict'

// This package's compiled addon may be rebuilt while the benchmark runs
// (`npm run build` replaces sharedmemory.*.node and binding.js). Before
// measuring this package we wait until both exist and have stopped
// changing, and we record which build (the addon's mtime) each measurement
// used.

const fs = require('node:fs')
const path = require('node:path')
const { ROOT } = require('./results')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function addonFile() {
  const name = fs.readdirSync(ROOT).find((f) => /^sharedmemory\..*\.node$/.test(f))
  return name ? path.join(ROOT, name) : null
}

/** The addon's identity: its file, size and mtime, and binding.js's mtime (rebuilt with it). */
function stamp() {
  const file = addonFile()
  if (!file) return null
  try {
    const st = fs.statSync(file)
    const binding = fs.statSync(path.join(ROOT, 'binding.js'))
    const newest = Math.max(st.mtimeMs, binding.mtimeMs)
    return { file: path.basename(file), size: st.size, mtime: st.mtime.toISOString(), newest }
  } catch {
    return null
  }
}

/** Resolves with the addon's stamp once it has been present and unchanged for `stableMs`. */
async function waitForAddon({ stableMs = 2000, timeoutMs = 120000, log = () => {} } = {}) {
  const until = Date.now() + timeoutMs
  let said = false
  for (;;) {
    const a = stamp()
    const young = a && Date.now() - a.newest < stableMs
    if (a && !young && (await sleep(200), JSON.stringify(stamp()) === JSON.stringify(a))) return a
    if (Date.now() > until) throw new Error(`the addon (sharedmemory.*.node) is missing or still changing after ${timeoutMs} ms`)
    if (!said) log('waiting for the addon (sharedmemory.*.node) to be rebuilt…')
    said = true
    await sleep(1000)
  }
}

module.exports = { waitForAddon, stamp }
