'use strict'

// Every error code is written in several places: the Rust core and the JS
// layer produce them, lib/errors.js lists them (`codes`), index.d.ts types
// them, the README's Errors table explains them. This keeps them in step.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')

const { codes } = require('..')

const root = path.join(__dirname, '..')
const read = (file) => fs.readFileSync(path.join(root, file), 'utf8')

function filesUnder(dir, ext) {
  return fs.readdirSync(path.join(root, dir), { recursive: true })
    .filter((file) => file.endsWith(ext))
    .map((file) => path.join(dir, file))
}

/** The codes written as string literals in `files` (Rust tests excluded: they may use made-up ones). */
function codesIn(files, quote) {
  const found = new Set()
  const literal = new RegExp(`${quote}(ERR_[A-Z_]+)${quote}`, 'g')
  for (const file of files) {
    const text = read(file).split(/#\[cfg\(test\)\]\s*mod tests/)[0]
    for (const [, code] of text.matchAll(literal)) found.add(code)
  }
  return found
}

const listed = Object.keys(codes).sort()

test('every code the Rust core or the JS layer produces is listed in codes', (t) => {
  const rust = codesIn(filesUnder('src', '.rs').filter((file) => !file.endsWith('tests.rs')), '"')
  const js = codesIn([...filesUnder('lib', '.js'), 'index.js', 'session.js', 'rate-limit.js', 'keyv.js'], "'")
  t.true(rust.size >= 6, `found the Rust codes (${[...rust]})`)
  t.deepEqual([...rust].filter((code) => !(code in codes)), [], 'Rust codes missing from lib/errors.js')
  t.deepEqual([...js].filter((code) => !(code in codes)), [], 'JS codes missing from lib/errors.js')
})

test('index.d.ts types exactly the listed codes', (t) => {
  const union = read('index.d.ts').match(/export type ErrorCode =([\s\S]*?)\n\n/)
  t.truthy(union, 'index.d.ts has an ErrorCode union')
  const typed = [...union[1].matchAll(/'(ERR_[A-Z_]+)'/g)].map(([, code]) => code).sort()
  t.deepEqual(typed, listed)
})

test("the README's Errors table explains exactly the listed codes", (t) => {
  const section = read('README.md').split(/^## Errors$/m)[1].split(/^## /m)[0]
  const rows = [...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map(([, code]) => code).sort()
  t.deepEqual(rows, listed)
})
