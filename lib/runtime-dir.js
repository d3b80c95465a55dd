'use strict'

// Where a host elected by name (lib/election.js) leaves what its clients
// need to connect, since they have no IPC parent to hand it to them: a
// private runtime directory of this user, and in it one `0600` file per
// store, written atomically (a temporary file, then rename).
//
// The directory is `$XDG_RUNTIME_DIR/sharedmemory` when XDG_RUNTIME_DIR is
// set and is a directory of ours, else `<os.tmpdir()>/sharedmemory-<uid>`.
// It is created `0700`; an existing one is refused (ERR_UNSAFE_RUNTIME_DIR)
// when it is a symbolic link, not a directory, not ours, or writable by
// group or others: another user could then replace the file, and with it
// the token a client presents.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const { SharedMemoryError } = require('./errors')

function uid() {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0
}

function unsafe(dir, why) {
  return new SharedMemoryError(
    'ERR_UNSAFE_RUNTIME_DIR',
    `sharedmemory: the runtime directory ${dir} ${why}, so the token of a store elected by name cannot be ` +
      'kept there safely; remove it, or set XDG_RUNTIME_DIR to a private directory of yours',
  )
}

/** Creates `dir` 0700 if it is missing, then checks it is a private directory of ours; throws if not. */
function ensurePrivateDir(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if (err.code !== 'EEXIST') throw unsafe(dir, `cannot be created (${err.code})`)
  }
  const stat = fs.lstatSync(dir)
  if (stat.isSymbolicLink()) throw unsafe(dir, 'is a symbolic link')
  if (!stat.isDirectory()) throw unsafe(dir, 'is not a directory')
  if (stat.uid !== uid()) throw unsafe(dir, `belongs to uid ${stat.uid}, not to this process's (${uid()})`)
  if ((stat.mode & 0o022) !== 0) throw unsafe(dir, `is writable by group or others (mode ${(stat.mode & 0o777).toString(8)})`)
  return dir
}

/** This user's runtime directory for sharedmemory, created if missing; throws ERR_UNSAFE_RUNTIME_DIR. */
function runtimeDir(env = process.env) {
  const xdg = env.XDG_RUNTIME_DIR
  if (xdg && path.isAbsolute(xdg)) {
    let ours = false
    try {
      const stat = fs.statSync(xdg)
      ours = stat.isDirectory() && stat.uid === uid()
    } catch {}
    if (ours) return ensurePrivateDir(path.join(xdg, 'sharedmemory'))
  }
  return ensurePrivateDir(path.join(os.tmpdir(), `sharedmemory-${uid()}`))
}

/** Writes `data` (an object, as JSON) to `file`, mode 0600, atomically: readers see the old file or the new one. */
function writeFileAtomic(file, data) {
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`
  try {
    fs.writeFileSync(temporary, JSON.stringify(data), { mode: 0o600, flag: 'wx' })
    fs.renameSync(temporary, file)
  } catch (err) {
    try {
      fs.unlinkSync(temporary)
    } catch {}
    throw err
  }
}

/** The object in `file`, or null when it is missing, unreadable, not ours, or not JSON (a writer will replace it). */
function readFile(file) {
  let fd
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    const stat = fs.fstatSync(fd)
    if (stat.uid !== uid() || !stat.isFile()) return null
    return JSON.parse(fs.readFileSync(fd, 'utf8'))
  } catch {
    return null
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Removes `file` if it still holds `token` (a later host's file is left alone). */
function removeIfHolds(file, token) {
  const data = readFile(file)
  if (data && data.token === token) {
    try {
      fs.unlinkSync(file)
    } catch {}
  }
}

module.exports = { runtimeDir, writeFileAtomic, readFile, removeIfHolds, uid }
