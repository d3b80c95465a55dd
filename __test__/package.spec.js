'use strict'

// The package as users get it (issue 12): `npm pack`, then an install of the
// tarball into an empty app on a PATH without cargo, which must need no build
// and print no warning, and run the README's quick start as written. Also:
// what the tarball's package.json and files hold, and the loader's message
// on a platform without a binary.

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const test = require('ava')

const { run } = require('./helpers')

const root = path.join(__dirname, '..')
const npm = (args, cwd, env = process.env) => spawnSync('npm', args, { cwd, env, encoding: 'utf8' })

test.serial('the packed tarball installs into an empty app with no build step and no warning, and the README quick start runs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sharedmemory-pack-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const packed = npm(['pack', '--pack-destination', dir, '--json'], root)
  t.is(packed.status, 0, packed.stderr)
  const [{ filename, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))
  const shipped = files.map((f) => f.path)
  t.false(fs.existsSync(path.join(root, 'package.json.orig')), 'postpack put package.json back')

  // What ships: the code, its types, the binary, LICENSE, and every file the README links to.
  for (const file of ['LICENSE', 'README.md', 'index.js', 'index.d.ts', 'session.js', 'rate-limit.js', 'keyv.js', 'lib/native.js']) {
    t.true(shipped.includes(file), `${file} is in the tarball`)
  }
  t.true(shipped.some((file) => file.endsWith('.node')), 'the prebuilt binary ships')
  t.false(shipped.some((file) => file.startsWith('src/') || file === 'Cargo.toml'), 'no Rust sources')
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map(([, target]) => target).filter((target) => !/^[a-z]+:/.test(target))
  t.true(links.length > 0)
  for (const link of new Set(links)) {
    const target = path.normalize(link).replace(/\/$/, '')
    t.true(shipped.some((file) => file === target || file.startsWith(`${target}/`)), `the README links to ${link}, which the tarball holds`)
  }

  // The published package.json: no scripts (no prepare to run), a description of today's package.
  // No repository field until the project has a public home: every README link is to a shipped file.
  const manifest = JSON.parse(execFileSync('tar', ['-xOzf', path.join(dir, filename), 'package/package.json'], { encoding: 'utf8' }))
  t.is(manifest.scripts, undefined)
  t.is(manifest.devDependencies, undefined)
  t.regex(manifest.description, /one machine/)
  t.notRegex(manifest.description, /cluster IPC\./)
  t.is(manifest.license, 'MIT')

  // An empty app, a PATH where cargo cannot be found.
  const app = path.join(dir, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), '{"name": "app", "version": "1.0.0", "private": true}\n')
  const withoutCargo = { ...process.env, PATH: process.env.PATH.split(path.delimiter).filter((p) => !fs.existsSync(path.join(p, 'cargo'))).join(path.delimiter) }
  t.is(spawnSync('cargo', ['--version'], { env: withoutCargo }).error?.code, 'ENOENT', 'cargo is out of reach')
  const installed = npm(['install', '--no-audit', '--no-fund', path.join(dir, filename)], app, withoutCargo)
  t.is(installed.status, 0, installed.stderr)
  t.notRegex(installed.stdout + installed.stderr, /warn/i, 'npm printed no warning')

  // The README's quick start: its first js block, as written.
  const quickStart = readme.match(/```js\n([\s\S]*?)```/)[1]
  fs.writeFileSync(path.join(app, 'app.js'), quickStart)
  const { stdout, code } = await run(path.join(app, 'app.js'), [], { deadlineMs: 60000, env: withoutCargo })
  t.is(code, 0)
  const visits = stdout.trim().split('\n').map((line) => Number(line.match(/visit (\d+)$/)[1])).sort()
  t.deepEqual(visits, [1, 2, 3, 4], stdout)
})

test('on a platform without a binary, require() names the platforms that have one', async (t) => {
  const preload = path.join(os.tmpdir(), `sharedmemory-platform-${process.pid}.js`)
  fs.writeFileSync(preload, "Object.defineProperty(process, 'platform', { value: 'freebsd' })\n")
  t.teardown(() => fs.rmSync(preload, { force: true }))
  const probe = "try { require(process.argv[1]) } catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })) }"
  const out = execFileSync(process.execPath, ['-r', preload, '-e', probe, root], { encoding: 'utf8' })
  const { code, message } = JSON.parse(out)
  t.is(code, 'ERR_UNSUPPORTED_PLATFORM')
  t.regex(message, /for this platform \(freebsd-x64/)
  t.regex(message, /Binaries are built for: linux-x64-gnu \(Linux, x64, glibc\)/)
  t.regex(message, /Rust toolchain/)
})
