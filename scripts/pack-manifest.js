'use strict'

// Keeps the repository's own scripts out of the published package.json:
// `prepack` removes the scripts an installed package must not run or has
// no use for (prepare above all, which would build from sources the tarball
// does not ship, and which npm 11 warns about on install), `postpack` puts
// package.json back as it was. npm pack and npm publish both run them.
//
//   node scripts/pack-manifest.js strip     (prepack)
//   node scripts/pack-manifest.js restore   (postpack)

const fs = require('node:fs')
const path = require('node:path')

const manifest = path.join(__dirname, '..', 'package.json')
const kept = `${manifest}.orig`

if (process.argv[2] === 'strip') {
  if (fs.existsSync(kept)) throw new Error(`${kept} exists: a previous pack did not restore it; restore it first`)
  const text = fs.readFileSync(manifest, 'utf8')
  fs.writeFileSync(kept, text)
  const pkg = JSON.parse(text)
  delete pkg.scripts
  delete pkg.devDependencies
  delete pkg.ava
  fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`)
} else if (process.argv[2] === 'restore') {
  if (fs.existsSync(kept)) fs.renameSync(kept, manifest)
} else {
  throw new Error('usage: node scripts/pack-manifest.js strip|restore')
}
