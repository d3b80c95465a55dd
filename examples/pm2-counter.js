'use strict'

// An HTTP app for PM2: every instance counts into one shared counter, with
// no option and no launcher. Run it with the ecosystem file beside it:
//
//   npx pm2 start examples/ecosystem.config.js
//   curl http://127.0.0.1:3000/   # a few times: the pid changes, the count does not skip
//   npx pm2 delete examples/ecosystem.config.js
//
// Under PM2 the instances of one app elect one of them to host the store
// (controller.role 'master'); the others connect to it ('worker'). If the
// host exits, the others elect a new one within milliseconds; what the old
// one held is lost (see "Where it runs" in the README).

const http = require('node:http')

const memory = require('..').init() // require('sharedmemory') in your app

http
  .createServer(async (req, res) => {
    try {
      const hits = await memory.incr('hits')
      res.end(`hit ${hits}, answered by pid ${process.pid} (${memory.role})\n`)
    } catch (err) {
      res.statusCode = 503
      res.end(`${err.code}: ${err.message}\n`) // ERR_HOST_EXITED while a new host is elected
    }
  })
  .listen(Number(process.env.PORT) || 3000, '127.0.0.1')
