'use strict'

// A store found by name among the same user's processes, with no parent to
// introduce them: `init({name})` in any script, and the instances of one
// PM2 app (lib/pm2.js names their store). The operating system elects the
// host: the store's name maps to one socket name in Linux's abstract
// namespace, and whoever binds it hosts the store (bind is atomic, and the
// kernel frees the name when its holder dies, even on SIGKILL); everyone
// else connects to it.
//
//   socket name   sharedmemory/<uid>/<first 32 hex digits of sha256(the store's key)>
//   token file    <runtime dir>/<the same digits>.json, 0600 (lib/runtime-dir.js):
//                 {v, token, pid, maxValueSize, serialization, segment, epoch}
//
// The uid in the name keeps users apart, but any user may bind any
// abstract name, so both sides check: the server accepts only peers of its
// own user (src/socket/server.rs), and a client refuses a server of another
// user before presenting its token (ERR_NAME_TAKEN, src/socket/client.rs).
//
// Where abstract names do not exist (not Linux; or, for tests on Linux,
// SHAREDMEMORY_ELECTION=lockfile), the election is by lock file instead:
// whoever holds an exclusive flock on <runtime dir>/<digits>.lock hosts, on
// the socket file <runtime dir>/<digits>.sock (src/socket/host_lock.rs).
// The kernel releases the lock when its holder dies, as it frees a name;
// the next holder removes the dead host's socket file before binding. Only
// this user can enter the 0700 directory, so no other user can squat.
//
// Fencing tokens grow across hosts (src/locks.rs): each host has an epoch,
// the previous host's plus one, read from the token file (which a host
// that stops rewrites without its token rather than removing, so the
// epoch outlives it) right after binding, before any client can reach it.
//
// Races, and why each is safe:
// - Two processes start together: one bind succeeds, the other fails and
//   connects. The winner writes the token file right after binding, so the
//   loser may find no file, or the previous host's: it retries (attempt()
//   answers `retry`), re-reading the file, until connectTimeout.
// - A host dies: its name is free at once; its token file stays behind,
//   stale. The survivors race to bind again; the one that wins overwrites
//   the file. A client that read the stale token is refused by the new
//   host's handshake and retries with the file re-read.
// - Only the process holding the name writes the file, and a host removes
//   it (closing, or exiting) only while it still holds the name and only if
//   it still holds its own token: a later host's file is never removed.

const crypto = require('node:crypto')
const path = require('node:path')

const { SharedMemoryError } = require('./errors')
const { HostedStore } = require('./hosted-store')
const { runtimeDir, writeFileAtomic, readFile, uid } = require('./runtime-dir')
const { SocketTransport } = require('./transports/socket')

const HASH_DIGITS = 32
/** Presented when no token is published: no host's token (64 hex digits from randomBytes) is ever this. */
const NO_TOKEN = 'none'.repeat(16)

/**
 * What identifies a store: ['name', name] for init({name}), or
 * ['pm2', PM2_HOME, namespace, app name] for a PM2 app (lib/pm2.js).
 */
function digest(key) {
  return crypto.createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, HASH_DIGITS)
}

/** The abstract socket name of the store `key` for this user. */
function socketNameOf(key) {
  return `sharedmemory/${uid()}/${digest(key)}`
}

/** The largest epoch (src/locks.rs: tokens stay below 2^53). */
const MAX_EPOCH = 2 ** 21 - 1

/**
 * Whether hosts are elected by lock file rather than by abstract socket
 * name: where abstract names do not exist, or when SHAREDMEMORY_ELECTION
 * is 'lockfile' (internal: how the tests run that path on Linux).
 */
function byLockFile(env = process.env) {
  return process.platform !== 'linux' || env.SHAREDMEMORY_ELECTION === 'lockfile'
}

class Election {
  #key
  #config
  #socket
  #candidate = null // the store this process would host: made at the first attempt, kept for later ones
  #hosting = null // {token, file} while this process hosts
  #onExit = null
  /** The socket {name, token} of the host this process found last (itself, or the one it connected to). */
  current = null

  /**
   * @param {string[]} key what identifies the store (see digest)
   * @param {object} config the normalized init() config (limits, cache, timeout)
   */
  constructor(key, config) {
    this.#key = key
    this.#config = config
    this.#socket = socketNameOf(key)
  }

  /** The socket name (the same in every process of this user electing this store). */
  get socketName() {
    return this.#socket
  }

  /**
   * One try, at once: bind the name (and host), or connect to its holder.
   * Answers {host: HostedStore}, {client: SocketTransport, limits}, or
   * {retry: why} (try again soon); throws a SharedMemoryError when it never
   * can work (ERR_UNSAFE_RUNTIME_DIR, ERR_NAME_TAKEN). `elected(store)`,
   * if given, runs once this process holds the name and before its token
   * is published, so before any client can reach the store.
   */
  attempt(elected) {
    const dir = runtimeDir()
    const file = path.join(dir, `${digest(this.#key)}.json`)
    // By lock file: the socket is a file beside the token file.
    const lockFile = byLockFile() ? path.join(dir, `${digest(this.#key)}.lock`) : null
    if (lockFile) this.#socket = path.join(dir, `${digest(this.#key)}.sock`)
    // With host 'external' this process never hosts (a sharedmemory-host does): it only connects.
    if (this.#config.host !== 'external') {
      if (!this.#candidate) this.#candidate = new HostedStore(this.#config)
      const token = crypto.randomBytes(32).toString('hex')
      if (this.#candidate.tryServe(this.#socket, token, lockFile)) {
        // The previous host's epoch is in the file it left; ours is the next.
        const previous = readFile(file)
        const epoch = Math.min(MAX_EPOCH, (previous && Number.isInteger(previous.epoch) && previous.epoch > 0 ? previous.epoch : 0) + 1)
        this.#candidate.setEpoch(epoch)
        if (elected) elected(this.#candidate)
        this.#published(file, token, epoch)
        this.current = { name: this.#socket, token }
        return { host: this.#candidate }
      }
    }
    const found = readFile(file)
    const published = found && typeof found.token === 'string' ? found : null
    // With no token published yet, connect all the same (with a token that
    // cannot match): the client checks whose server holds the name before
    // it presents anything, so a name squatted by another user is told
    // from a host that has not written its file yet.
    const presented = published ? published.token : NO_TOKEN
    let transport
    try {
      transport = new SocketTransport({ name: this.#socket, token: presented }, { timeout: this.#config.timeout })
    } catch (err) {
      if (/^ERR_NAME_TAKEN\b/.test(err.message)) {
        throw new SharedMemoryError(
          'ERR_NAME_TAKEN',
          `sharedmemory: the store ${describe(this.#key)} cannot be joined or hosted: its socket name is held by a ` +
            `process of another user (${err.message.replace(/^ERR_NAME_TAKEN: /, '')})`,
        )
      }
      return { retry: err.message } // the holder just died, or its token is not written yet
    }
    if (!published) {
      transport.close() // cannot happen (no server takes NO_TOKEN), but if one did, it is not our host
      return { retry: 'the host has not written its token file yet' }
    }
    this.current = { name: this.#socket, token: published.token }
    const limits = {
      maxValueSize: Number.isInteger(published.maxValueSize) ? published.maxValueSize : this.#config.maxValueSize,
      serialization: typeof published.serialization === 'string' ? published.serialization : 'json',
      segment: published.segment || null,
      socket: this.current, // where the segment's descriptor is asked for
    }
    return { client: transport, limits }
  }

  /** This process hosts: its clients find the token in the file (written after binding, see above). */
  #published(file, token, epoch) {
    const { maxValueSize, serialization } = this.#config
    try {
      const segment = this.#candidate.segment() // null when the store is not published (lib/shared-reads.js)
      writeFileAtomic(file, { v: 1, token, pid: process.pid, maxValueSize, serialization, segment, epoch })
    } catch (err) {
      process.emitWarning(
        `sharedmemory: this process hosts the store ${describe(this.#key)} but cannot write its token file ${file} ` +
          `(${err.message}); other processes cannot join it`,
        'SharedMemoryWarning',
      )
    }
    this.#hosting = { file, token, epoch }
    // The name is freed by the kernel however this process ends; the file
    // is removed on a normal exit (a stale one is harmless: see above).
    this.#onExit = () => this.#unpublish()
    process.on('exit', this.#onExit)
  }

  #unpublish() {
    if (!this.#hosting) return
    // The token goes (no client may present it), the epoch stays for the next host.
    const { file, token, epoch } = this.#hosting
    const data = readFile(file)
    if (data && data.token === token) {
      try {
        writeFileAtomic(file, { v: 1, epoch })
      } catch {}
    }
    this.#hosting = null
    if (this.#onExit) process.off('exit', this.#onExit)
    this.#onExit = null
  }

  /** Stops hosting, if this process does: the token file goes first (the name is still ours), then the name. */
  resign() {
    if (!this.#hosting) return
    this.#unpublish()
    this.#candidate.stopServing()
  }
}

function describe(key) {
  return key[0] === 'name' ? JSON.stringify(key[1]) : `of the PM2 app ${JSON.stringify(key[3])}`
}

module.exports = { Election, socketNameOf, byLockFile }
