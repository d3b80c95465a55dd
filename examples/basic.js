'use strict'

// The README scenario of sharedmemory 0.0.7, unchanged but for the require:
// worker 1 stores 'a'; worker 2, forked a second later, reads it back and
// removes it. The store lives in the master. Run: npm run example

const cluster = require('node:cluster')

const sharedMemoryController = require('..').init() // require('sharedmemory') in your app

if (cluster.isPrimary) {
  cluster.fork()
  setTimeout(() => cluster.fork(), 1000)

  let done = 0
  cluster.on('exit', () => {
    if (++done < 2) return
    sharedMemoryController.get('a', (value) => {
      console.log(`master: both workers are done; 'a' is now ${value === undefined ? 'gone' : JSON.stringify(value)}`)
    })
  })
} else if (cluster.worker.id === 1) {
  sharedMemoryController.set('a', [0, 1, 2, 3], (reply) => {
    console.log(`worker 1: set('a', [0, 1, 2, 3]) -> ${reply}`)
    cluster.worker.disconnect()
  })
} else {
  sharedMemoryController.get('a', (data) => {
    console.log('worker 2: get(\'a\') ->', data) // => [ 0, 1, 2, 3 ]
    sharedMemoryController.remove('a', (reply) => {
      console.log(`worker 2: remove('a') -> ${reply}`)
      cluster.worker.disconnect()
    })
  })
}
