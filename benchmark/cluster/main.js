'use strict'

// The entry of one measurement's cluster: `measure.js` starts this file with
// the measurement described in BENCH_SPEC; the master forks the workers,
// which run this same file and so inherit BENCH_SPEC.

const cluster = require('node:cluster')

const spec = JSON.parse(process.env.BENCH_SPEC)

if (cluster.isPrimary) require('./primary').run(spec)
else require('./worker').run(spec)
