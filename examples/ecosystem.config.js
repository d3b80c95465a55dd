// PM2 ecosystem file for examples/pm2-counter.js: three instances in
// cluster mode sharing one sharedmemory store. `npx pm2 start
// examples/ecosystem.config.js`. Fork mode works the same
// (exec_mode: 'fork'; then give each instance its own port).
module.exports = {
  apps: [
    {
      name: 'pm2-counter',
      script: `${__dirname}/pm2-counter.js`,
      exec_mode: 'cluster',
      instances: 3,
      env: { PORT: '3000' },
    },
  ],
}
