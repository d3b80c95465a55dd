'use strict'

// Running under PM2: PM2's daemon ("God") is the parent of every app
// process, and in cluster mode it is their cluster primary, running no code
// of ours. So the instances of one app elect a host among themselves
// (lib/election.js), with no option needed. PM2 copies its process
// environment into each app process; what tells an app apart:
//   pm_id       set in every process PM2 runs (its id in this daemon)
//   name        the app's name
//   exec_mode   'cluster_mode' or 'fork_mode'
//   namespace   the app's PM2 namespace ('default' unless set)
//   PM2_HOME    the daemon's home (~/.pm2 unless set): one daemon per home
// The store is named from (uid, PM2_HOME, namespace, name), so two apps of
// one daemon, or one app under two daemons, never share by accident.

const os = require('node:os')
const path = require('node:path')

/**
 * The store key (see lib/election.js) of the PM2 app this process is an
 * instance of, or null when it is not run by PM2. A cluster worker of a
 * fork-mode app (the app runs its own cluster inside one PM2 process)
 * inherits PM2's variables but has its own primary: it is not an
 * instance, and joins its primary over IPC as any cluster worker does.
 */
function pm2StoreKey(env, isClusterWorker) {
  if (env.pm_id === undefined || typeof env.name !== 'string' || env.name === '') return null
  if (isClusterWorker && env.exec_mode !== 'cluster_mode') return null
  const home = env.PM2_HOME || path.join(os.homedir(), '.pm2')
  return ['pm2', path.resolve(home), env.namespace || 'default', env.name]
}

module.exports = { pm2StoreKey }
