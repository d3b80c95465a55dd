'use strict'

// The peers: which adapter (./adapters/<name>.js) each one uses, with what
// options, and what is special about it.
//
//   ours        this package (the ratios' numerator in the target rows)
//   viaMaster   every request crosses the master's JS event loop (cluster IPC)
//   sync        workload A calls getSync() instead of awaiting get()
//   redis       needs the redis-server the benchmark starts
//   workloads   restricts the peer to these workloads (default: all)
//   incr        how workload C increments, when it is not an atomic increment

const PEERS = {
  sharedmemory: {
    adapter: 'sharedmemory',
    options: { transport: 'socket' },
    label: 'sharedmemory (socket)',
    ours: true,
  },
  'sharedmemory-sync': {
    adapter: 'sharedmemory',
    options: { transport: 'socket' },
    label: 'sharedmemory getSync',
    ours: true,
    sync: true,
    workloads: ['A', 'AS', 'AH'],
  },
  'sharedmemory-noshm': {
    adapter: 'sharedmemory',
    options: { transport: 'socket', sharedReads: false },
    label: 'sharedmemory (socket, sharedReads off)',
    ours: true,
  },
  'sharedmemory-ipc': {
    adapter: 'sharedmemory',
    options: { transport: 'ipc' },
    label: 'sharedmemory (ipc)',
    ours: true,
    viaMaster: true,
  },
  baseline: {
    adapter: 'original-protocol',
    label: 'baseline (0.0.7 protocol)',
    viaMaster: true,
  },
  'cluster-shared-memory': {
    adapter: 'cluster-shared-memory',
    label: 'cluster-shared-memory',
    viaMaster: true,
    incr: 'get + set (no atomic increment)',
  },
  memored: {
    adapter: 'memored',
    label: 'memored',
    viaMaster: true,
    incr: 'read + store (no atomic increment)',
  },
  'lru-cache-for-clusters': {
    adapter: 'lru-cache-for-clusters',
    label: 'lru-cache-for-clusters',
    viaMaster: true,
  },
  redis: {
    adapter: 'ioredis',
    options: { autopipe: false },
    label: 'redis (ioredis)',
    redis: true,
  },
  'redis-autopipe': {
    adapter: 'ioredis',
    options: { autopipe: true },
    label: 'redis (autopipelining)',
    redis: true,
  },
  'sharedmemory-redis': {
    adapter: 'sharedmemory-redis',
    options: { near: false },
    label: 'sharedmemory on redis',
    redis: true,
  },
  'sharedmemory-redis-near': {
    adapter: 'sharedmemory-redis',
    options: { near: true },
    label: 'sharedmemory on redis, near-cache',
    redis: true,
  },
  lmdb: {
    adapter: 'lmdb',
    label: 'lmdb (sync reads)',
    sync: true,
    incr: 'get + put in transactionSync',
  },
}

const DEFAULT_PEERS = Object.keys(PEERS)
const SMOKE_PEERS = ['sharedmemory', 'sharedmemory-sync', 'baseline']

/** Whether `peer` takes part in `workload`. */
function runs(peer, workload) {
  const p = PEERS[peer]
  return !p.workloads || p.workloads.includes(workload)
}

function loadAdapter(peer) {
  return require(`./adapters/${PEERS[peer].adapter}`)
}

module.exports = { PEERS, DEFAULT_PEERS, SMOKE_PEERS, runs, loadAdapter }
