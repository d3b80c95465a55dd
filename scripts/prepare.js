'use strict'

// npm's `prepare` script, which npm runs on `npm install` in the package's
// own directory (a clone of the repository, or a directory install) and
// before `npm pack`. In a clone (the Rust sources are there) it builds the
// release addon, as CI's `npm install` relies on; when cargo is missing it
// says what is needed, and carries on if a binary is present already.
// Anywhere else (the package as installed from its tarball, which ships no
// Rust sources) it does nothing: the prebuilt binary is used.
//
// The published package.json carries no prepare script at all (see
// scripts/pack-manifest.js); this guard is for directory installs of a
// checkout with a binary built.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const hasSources = fs.existsSync(path.join(root, 'Cargo.toml')) && fs.existsSync(path.join(root, 'src', 'lib.rs'))
if (!hasSources) process.exit(0)

const binaries = fs.readdirSync(root).filter((file) => file.endsWith('.node'))
const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
if (cargo.error || cargo.status !== 0) {
  const need = 'building sharedmemory from source needs a Rust toolchain (cargo, from rustup.rs or your package manager)'
  if (binaries.length > 0) {
    process.stderr.write(`sharedmemory: cargo not found; ${need}. Using the binary already built: ${binaries.join(', ')}\n`)
    process.exit(0)
  }
  process.stderr.write(`sharedmemory: cargo not found, and no binary is built: ${need}\n`)
  process.exit(1)
}

const npm = process.env.npm_execpath
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
process.exit(build.status ?? 1)
