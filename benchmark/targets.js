'use strict'

// The targets, all at W=2 (at the only W run, e.g. with --smoke),
// each checked run by run (run i of one cell over run i of the other):
// "met" when every run meets it, "partly" when some do, "missed" when none
// does.

const { PEERS } = require('./peers')

/** The W the targets are checked at: 2, or the first W run if 2 was not. */
function targetWorkers(workers) {
  return workers.includes(2) ? 2 : workers[0]
}

function ratioTarget(id, label, goal, [wa, pa, fa], [wb, pb, fb], check) {
  return {
    id,
    label,
    goal,
    evaluate(cells, W) {
      const ratios = cells.ratios(cells.values(wa, W, pa, fa), cells.values(wb, W, pb, fb))
      return { ratios, status: status(ratios, (r) => r >= goal, check ? check(cells, W) : true) }
    },
  }
}

function status(all, ok, extraOk = true) {
  const ratios = all.filter((r) => r !== null)
  if (!ratios.length) return 'n/a'
  const met = ratios.filter(ok).length
  const failed = all.length - ratios.length
  const note = failed ? ` (${ratios.length} of ${all.length} runs; ${failed} failed)` : ''
  if (met === ratios.length && extraOk) return `met${note}`
  return (met ? 'partly' : 'missed') + note
}

const TARGETS = [
  ratioTarget('B-baseline', 'B ours / baseline', 10, ['B', 'sharedmemory'], ['B', 'baseline']),
  ratioTarget('B-redis', 'B ours / redis-autopipe', 5, ['B', 'sharedmemory'], ['B', 'redis-autopipe']),
  ratioTarget('A-sync', 'A getSync ours / baseline async', 5, ['A', 'sharedmemory-sync'], ['A', 'baseline']),
  ratioTarget('A-async', 'A async (socket) ours / baseline', 2, ['A', 'sharedmemory'], ['A', 'baseline']),
  ratioTarget('C-baseline', 'C ours / baseline, exact count', 5, ['C', 'sharedmemory'], ['C', 'baseline'], (cells, W) =>
    cells.runs('C', W, 'sharedmemory').every((m) => m.error || (m.counter && m.counter.lost === 0)),
  ),
  ratioTarget('D-baseline', 'D MB/s ours / baseline', 5, ['D', 'sharedmemory'], ['D', 'baseline']),
  ratioTarget('E-own', 'E ours / our own B', 0.5, ['E', 'sharedmemory'], ['B', 'sharedmemory']),
  // Reads from shared memory (the shared-reads issue), against lmdb-js's sync get of the same data.
  ratioTarget('A-lmdb', 'A getSync ours / lmdb get', 2, ['A', 'sharedmemory-sync'], ['A', 'lmdb']),
  ratioTarget('AS-lmdb', 'AS (strings) getSync ours / lmdb get', 3, ['AS', 'sharedmemory-sync'], ['AS', 'lmdb']),
  ratioTarget('AH-lmdb', 'AH (hot set) getSync ours / lmdb get', 5, ['AH', 'sharedmemory-sync'], ['AH', 'lmdb']),
  ratioTarget('A-async-lmdb', 'A async get ours / lmdb get', 1, ['A', 'sharedmemory'], ['A', 'lmdb']),
  ratioTarget('B-lmdb', 'B ours / lmdb', 2, ['B', 'sharedmemory'], ['B', 'lmdb']),
  ratioTarget('E-reads', 'E ours / our own B (reads keep their pace)', 0.9, ['E', 'sharedmemory'], ['B', 'sharedmemory']),
]

/** E over B for every peer whose requests cross the master's event loop: expected near zero. */
function busyMasterRows(cells, peers, W) {
  return peers
    .filter((p) => PEERS[p].viaMaster)
    .map((p) => ({
      id: `E-${p}`,
      label: `E / own B: ${p}`,
      goal: null,
      workers: W,
      ratios: cells.ratios(cells.values('E', W, p), cells.values('B', W, p)),
      status: 'info',
    }))
}

function memoryTarget(memory) {
  const goal = 1.5
  const ours = memory && memory.ours && memory.ours.bytesPerEntry
  const theirs = memory && memory.redis && memory.redis.bytesPerEntry
  const ratios = ours && theirs ? [ours / theirs] : []
  return { id: 'memory', label: 'memory per entry ours / redis', goal, max: true, ratios, status: status(ratios, (r) => r <= goal) }
}

/** Every target row, evaluated. */
function evaluate(cells, peers, workers, memory) {
  const W = targetWorkers(workers)
  return [
    ...TARGETS.map((t) => ({ id: t.id, label: t.label, goal: t.goal, workers: W, ...t.evaluate(cells, W) })),
    ...busyMasterRows(cells, peers, W),
    memoryTarget(memory),
  ]
}

module.exports = { evaluate, targetWorkers }
