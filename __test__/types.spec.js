'use strict'

const path = require('node:path')

const test = require('ava')

const { run } = require('./helpers')

test('index.d.ts describes the API: correct usage compiles, mistakes do not', async (t) => {
  const tsc = require.resolve('typescript/bin/tsc')
  const { code, stdout, stderr } = await run(tsc, ['-p', path.join(__dirname, 'types', 'tsconfig.json')])
  t.is(code, 0, stdout + stderr)
})

test('under strict and exactOptionalPropertyTypes: the API, and the adapters as express-session, express-rate-limit, Keyv and cache-manager type them', async (t) => {
  const tsc = require.resolve('typescript/bin/tsc')
  const { code, stdout, stderr } = await run(tsc, ['-p', path.join(__dirname, 'types', 'tsconfig.exact.json')])
  t.is(code, 0, stdout + stderr)
})
