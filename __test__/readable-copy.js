'use strict'

// For tests that run a process as another user (nobody): the checkout may
// sit in a directory only its owner can enter (a CI clone in a 0700 temp
// dir), so such a process runs a copy of its fixtures and of the addon from
// a directory anyone can read. The fixture loads the addon from SM_ADDON.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

/**
 * Copies the addon and `fixtures` (file names in __test__/fixtures) into a
 * new world-readable directory. Answers {script(name), env, remove()}.
 */
function readableCopy(fixtures) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm-readable-'))
  fs.chmodSync(dir, 0o755)
  const addon = fs.readdirSync(ROOT).find((file) => file.endsWith('.node'))
  fs.copyFileSync(path.join(ROOT, addon), path.join(dir, addon))
  for (const fixture of fixtures) fs.copyFileSync(path.join(__dirname, 'fixtures', fixture), path.join(dir, fixture))
  return {
    script: (fixture) => path.join(dir, fixture),
    env: { SM_ADDON: path.join(dir, addon) },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}

module.exports = { readableCopy }
