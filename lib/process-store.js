'use strict'

// How a process's worker_threads and its child_process.fork() children
// learn which store it uses, so that they join it instead of making one of
// their own.
//
// Threads: the addon is loaded once per process, so the Rust core keeps one
// registry for the whole process (src/threads.rs). The main thread's
// init() publishes there, under the key 'process', what its part is:
//   {state: 'loaded'}                         the main thread loaded the package
//                                             (init() may come: a thread waits for it)
//   {state: 'pending', role}                  init() ran, the store is not found yet
//                                             (a worker before its welcome, an
//                                             election after a host exit)
//   {state: 'ready', role, socket?, limits}   found: a hosting process publishes its
//                                             store itself (threads use it directly);
//                                             a client the host's socket {name, token}
//                                             and limits (threads connect to it)
//   {state: 'unsupported', why}               a part threads cannot share (the relaying
//                                             master, a worker on IPC only)
// A thread's link (lib/links.js) reads it on each attempt, so it follows
// the process through failovers.
//
// Forked children: the main thread's init() sets SHAREDMEMORY_PARENT in its
// own environment, which child_process.fork() (and spawn) copy into every
// child started afterwards: {pid, key} for a store found by name (the child
// takes part in the same election), or {pid, socket, limits} for a cluster
// master or worker (the child connects to the same host's socket; so do the
// cluster workers a serving master forks, during their init(), so that sync
// calls work from a worker's first line). A child
// trusts it only if `pid` is its parent's (process.ppid): a variable
// inherited from further up, by a process that never called init(), is
// ignored. The token in it is what every client of that host presents; the
// environment of a process is readable only by its own user (and root), as
// the token file of a named store is.

const { isMainThread } = require('node:worker_threads')

const { processInfo, publishProcessInfo } = require('./native')

const KEY = 'process'
const ENV = 'SHAREDMEMORY_PARENT'

/** At load, in the main thread: threads that init() now wait for the main thread's init(). */
function markLoaded() {
  if (isMainThread && processInfo(KEY) === null) publishProcessInfo(KEY, JSON.stringify({ state: 'loaded' }))
}

/**
 * The main thread's part, for its threads: `info` as above; `store`, when
 * this process hosts, is its HostedStore (threads then join it directly).
 * Threads publish nothing.
 */
function publishPart(info, store = null) {
  if (!isMainThread) return
  const text = JSON.stringify(info)
  if (store) store.share(KEY, text) // lib/hosted-store.js joins it under the same key
  else publishProcessInfo(KEY, text)
}

/** What the main thread published, for a thread: {info, hosted}, or null when the main thread never loaded the package. */
function processPart() {
  const found = processInfo(KEY)
  if (found === null) return null
  let info
  try {
    info = JSON.parse(found.info)
  } catch {
    return null
  }
  return { info, hosted: found.hosted }
}

/** Tells children forked from now on how to join (`how`: {key} or {socket, limits}); main thread only. */
function exportToChildren(how) {
  if (isMainThread) process.env[ENV] = JSON.stringify({ pid: process.pid, ...how })
}

/** close(): children forked from now on do not join, threads that init() now wait again. */
function withdraw() {
  if (!isMainThread) return
  delete process.env[ENV]
  publishProcessInfo(KEY, JSON.stringify({ state: 'loaded' }))
}

/** What the parent exported ({key} or {socket, limits}), if this process is its forked child; else null. */
function parentStore(env = process.env) {
  const text = env[ENV]
  if (typeof text !== 'string') return null
  let found
  try {
    found = JSON.parse(text)
  } catch {
    return null
  }
  if (!found || found.pid !== process.ppid) return null
  if (Array.isArray(found.key) && found.key.every((part) => typeof part === 'string')) return { key: found.key }
  const socket = found.socket
  if (socket && typeof socket.name === 'string' && typeof socket.token === 'string' && found.limits) {
    return { socket: { name: socket.name, token: socket.token }, limits: found.limits }
  }
  return null
}

module.exports = { markLoaded, publishPart, processPart, exportToChildren, withdraw, parentStore, ENV }
