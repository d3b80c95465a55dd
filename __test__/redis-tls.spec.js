'use strict'

// rediss:// against a real redis-server serving TLS only, with a CA and a
// certificate for 127.0.0.1 made here with openssl; the client trusts the CA
// through SSL_CERT_FILE (read by rustls-native-certs). A client that does not
// trust it is refused with a coded error.

const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const test = require('ava')

const { startRedis, freePort } = require('./redis-server')

const CLIENT = path.join(__dirname, 'fixtures', 'redis-client.js')

function certificates(dir) {
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sharedmemory test CA'])
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n')
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext'])
}

async function runClient(t, env, args) {
  const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.stdout.once('end', () => resolve(null)) // exited without its line: the test fails, never hangs
  })
}

test('rediss:// connects over TLS to a server that serves only TLS, and refuses a certificate it does not trust', async (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sm-tls-'))
  certificates(dir)
  const port = await freePort()
  const server = await startRedis({
    dir,
    args: ['--tls-port', String(port), '--tls-cert-file', 'server.pem', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no'],
  })
  t.teardown(() => server.stop())
  const url = `rediss://127.0.0.1:${port}`
  const trusted = { SSL_CERT_FILE: path.join(dir, 'ca.pem') }
  t.is(await runClient(t, trusted, [url, 'tls:', 'set', 'k', 'over tls']), 'DONE')
  t.is(await runClient(t, trusted, [url, 'tls:', 'get', 'k']), 'VALUE "over tls"')
  const refused = await runClient(t, { SSL_CERT_FILE: path.join(dir, 'server.key') }, [url, 'tls:', 'get', 'k'])
  t.regex(refused, /^FAILED ERR_REDIS/)
})
