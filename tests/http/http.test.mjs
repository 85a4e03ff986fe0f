// booking-server over real HTTP (node's fetch): every endpoint, its statuses
// and error bodies, the guide's §10.3 scenarios, SSE, ETag/304 — and every
// response received is validated against examples/server/openapi.json.
//
// Run by run-http.sh, which makes the data directory (booking init), starts
// the store's servers and passes, in the environment:
//   HTTP_TEST_SERVER   the booking-server binary      HTTP_TEST_CLI   the booking CLI
//   HTTP_TEST_WORK     a temporary directory (cwd; ./booking-data holds the keys)
//   HTTP_TEST_STORE_URL, HTTP_TEST_LOCK_URL (optional), HTTP_TEST_MODE sqlite|postgresql
//   HTTP_TEST_OPENAPI  the document                   HTTP_TEST_WWW   the page's directory (optional)
//   HTTP_TEST_CLOCK_FILE  a libfaketime FAKETIME_TIMESTAMP_FILE: "+0" now; writing "+6m"
//                      moves the clock that decides expiry (the server's own on SQLite,
//                      under libfaketime here; PostgreSQL's, started under it by the runner)
//   HTTP_TEST_FAKETIME_LIB  libfaketime.so.1 (SQLite: the server runs under it)
//   HTTP_TEST_STOP_STORE  a shell command stopping the store's server (PostgreSQL), for the breaker
// SPDX-License-Identifier: MIT
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOpenApi } from './openapi-check.mjs';

const env = process.env;
const MODE = env.HTTP_TEST_MODE || 'sqlite';
const WORK = env.HTTP_TEST_WORK;
const DATA = join(WORK, 'booking-data');
const PASSWORD = 'Correct-Horse-42-battery';
const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';
const EXPIRY_MINUTES = 5;

let api; // the OpenAPI checker
let server; // the child process
let base; // http://127.0.0.1:PORT
const stderrTail = [];
const recent = []; // the last requests sent, named when the server dies
const crashes = []; // servers that died under a test: reported at the end (the next test gets a new one)

// Settings both the server and the CLI get: the same keys, the same store.
function bookingEnv() {
  return {
    ...env,
    BOOKING_STORE_URL: env.HTTP_TEST_STORE_URL,
    BOOKING_LOCK_URL: env.HTTP_TEST_LOCK_URL || '',
    BOOKING_JWT_PRIVATE_KEY_FILE: join(DATA, 'jwt-private.jwk'),
    BOOKING_JWT_PUBLIC_KEYS_FILE: join(DATA, 'jwt-public.jwks'),
    BOOKING_PAYMENT_KEY_FILE: join(DATA, 'payment.key'),
    BOOKING_EXPIRY_MINUTES: String(EXPIRY_MINUTES),
    BOOKING_ACCESS_TOKEN_TTL_SECONDS: '7200', // outlives the +6 min clock jump
    BOOKING_PASSWORD_OPSLIMIT: '1',
    BOOKING_PASSWORD_MEMLIMIT_KIB: '8192',
    BOOKING_LOG_LEVEL: env.BOOKING_LOG_LEVEL || 'WARNING',
  };
}

function cli(args, input) {
  const r = spawnSync(env.HTTP_TEST_CLI, ['--json', '--data-dir', DATA, ...args], { cwd: WORK, env: bookingEnv(), input, encoding: 'utf8', timeout: 60000 });
  let json;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { status: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

// A booking-server on the suite's store and keys, on a free port; `extraEnv`
// adds BOOKING_* settings of its own (a second server with other limits).
async function spawnServer(extraEnv = {}) {
  const args = ['--store', env.HTTP_TEST_STORE_URL, '--listen', '127.0.0.1:0', '--threads', '8', '--data-dir', DATA, '--openapi', env.HTTP_TEST_OPENAPI];
  if (env.HTTP_TEST_WWW) args.push('--www', env.HTTP_TEST_WWW);
  const e = { ...bookingEnv(), ...extraEnv };
  if (env.HTTP_TEST_FAKETIME_LIB) {
    // The clock that decides expiry, movable from the test (see the header).
    e.LD_PRELOAD = env.HTTP_TEST_FAKETIME_LIB;
    e.FAKETIME_TIMESTAMP_FILE = env.HTTP_TEST_CLOCK_FILE;
    e.FAKETIME_CACHE_DURATION = '1';
    e.FAKETIME_DONT_FAKE_MONOTONIC = '1';
  }
  const proc = spawn(env.HTTP_TEST_SERVER, args, { cwd: WORK, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderrTail.push(d);
    if (stderrTail.length > 200) stderrTail.shift();
    if (env.HTTP_TEST_VERBOSE) process.stderr.write(d);
  });
  proc.stdout.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('booking-server did not print its listening line within 30 s\n' + stderrTail.join(''))), 30000);
    proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`booking-server exited (${code ?? sig}) before listening\n${stderrTail.join('')}`)); });
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/booking-server: listening on (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
    });
  });
  proc.removeAllListeners('exit');
  return { proc, url };
}

// SIGTERM, then SIGKILL after 15 s: the exit, or null when it was gone already.
async function stopProcess(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return null;
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  proc.stopping = true;
  proc.kill('SIGTERM');
  const r = await Promise.race([exited, sleep(15000).then(() => null)]);
  if (!r) { proc.kill('SIGKILL'); await exited; return { code: null, sig: 'SIGKILL (no exit within 15 s of SIGTERM)' }; }
  return r;
}

async function startServer() {
  const s = await spawnServer();
  server = s.proc;
  base = s.url;
  const me = server;
  me.on('exit', (code, sig) => {
    if (me.stopping) return;
    const what = `booking-server died (${sig || `exit ${code}`}) during "${F.currentTest}"; the last requests:\n  ${recent.join('\n  ')}`;
    crashes.push(what);
    console.error(`${what}\n${stderrTail.join('').slice(-4000)}`);
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null) return null;
  return stopProcess(server);
}

// One request (to the suite's server, or to `at`); the response is validated against the document before it is returned.
async function call(method, path, { token, body, raw, headers = {}, validate = true, at } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) { payload = raw; h['Content-Type'] ??= 'application/json'; }
  else if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] = 'application/json'; }
  const url = (at || base) + path;
  recent.push(`${method} ${path} ${typeof payload === 'string' ? payload.slice(0, 200) : payload ? '<bytes>' : ''}`);
  if (recent.length > 6) recent.shift();
  const r = await fetch(url, { method, headers: h, body: payload });
  const text = await r.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  const res = { status: r.status, headers: r.headers, text, json, body: json };
  if (validate) api.validate(method, url, res);
  return res;
}

function expectError(res, status, code, what = '') {
  assert.equal(res.status, status, `${what} status ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.json?.error?.code, code, `${what} code: ${res.text.slice(0, 300)}`);
  assert.equal(typeof res.json.error.message, 'string');
  assert.equal(typeof res.json.error.details, 'object');
}

let seq = 0;
const uniq = (p) => `${p}-${process.pid}-${++seq}-${Date.now().toString(36)}`;

async function registerAndLogin(prefix = 'user') {
  const email = `${uniq(prefix)}@example.com`;
  const r = await call('POST', '/api/v1/auth/register', { body: { email, password: PASSWORD } });
  assert.equal(r.status, 201, r.text);
  const l = await call('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(l.status, 200, l.text);
  return { email, token: l.json.access_token, user: l.json.user };
}

// ---- shared fixture ---------------------------------------------------------
const F = {}; // admin, alice, bob, theater, screen, movie, showtime(s)

async function newShowtime(layout = 'A-H:4+8+4,J:10:premium', prices = { standard: 1250, premium: 1850 }) {
  const s = await call('POST', `/api/v1/theaters/${F.theater.id}/screens`, { token: F.admin.token, body: { name: uniq('Salle'), layout } });
  assert.equal(s.status, 201, s.text);
  const st = await call('POST', '/api/v1/showtimes', { token: F.admin.token, body: { movie_id: F.movie.id, screen_id: s.json.id, starts_at: new Date(Date.now() + 86400000).toISOString(), currency: 'EUR', prices } });
  assert.equal(st.status, 201, st.text);
  return st.json;
}

async function hold(token, showtime_id, seat_ids, headers) {
  return call('POST', '/api/v1/bookings', { token, body: { showtime_id, seat_ids }, headers });
}

before(async () => {
  api = await loadOpenApi(env.HTTP_TEST_OPENAPI);
  // The first admin, as a host's operator makes it: the CLI as the system.
  const adminEmail = `admin-${process.pid}@example.com`;
  const reg = cli(['--as', 'system', 'register', '--admin', adminEmail], PASSWORD + '\n');
  assert.equal(reg.status, 0, `booking register --admin: ${reg.stdout} ${reg.stderr}`);
  await startServer();
  const l = await call('POST', '/api/v1/auth/login', { body: { email: adminEmail, password: PASSWORD } });
  assert.equal(l.status, 200, l.text);
  F.admin = { email: adminEmail, token: l.json.access_token, user: l.json.user };
  assert.equal(F.admin.user.role, 'admin');
});

beforeEach(async (t) => {
  F.currentTest = t.name;
  if (server && server.exitCode === null && server.signalCode === null) return;
  await startServer(); // the last one died: a new one on the same store, so the other tests still tell
});

after(async () => {
  // SIGTERM with an event stream open: the server still finishes and exits 0.
  let stream = null;
  if (server && server.exitCode === null && F.showtime) {
    stream = new AbortController();
    const res = await fetch(`${base}/api/v1/showtimes/${F.showtime.id}/events`, { signal: stream.signal }).catch(() => null);
    if (res) res.body.getReader().read().catch(() => {});
  }
  const r = await stopServer();
  if (stream) stream.abort();
  if (r && !(r.code === 0 || (MODE === 'postgresql' && F.storeStopped)))
    console.error(`booking-server exit after SIGTERM: ${JSON.stringify(r)}\n${stderrTail.join('').slice(-4000)}`);
  if (r && !F.storeStopped) assert.equal(r.code, 0, `booking-server exits 0 on SIGTERM (${JSON.stringify(r)})`);
  assert.deepEqual(crashes, [], 'the server never dies');
  const cov = api.coverage();
  console.log('# responses seen per operation (status: documented → seen)');
  for (const c of cov) console.log(`#   ${c.op.padEnd(44)} ${c.documented.join(',')} → ${c.seen.join(',') || '-'}`);
});

// ---- the document -----------------------------------------------------------
test('openapi.json is a valid OpenAPI 3.1 document and the server serves it', async () => {
  assert.equal(api.doc.openapi, '3.1.0');
  const r = await call('GET', '/openapi.json');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, JSON.parse(readFileSync(env.HTTP_TEST_OPENAPI, 'utf8')), 'the served document is examples/server/openapi.json');
});

// ---- operations -------------------------------------------------------------
test('health, ready, jwks', async () => {
  const h = await call('GET', '/health');
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await call('GET', '/ready');
  assert.equal(r.status, 200);
  assert.equal(r.json.dependencies.store.state, 'CLOSED');
  const j = await call('GET', '/.well-known/jwks.json');
  assert.equal(j.status, 200);
  assert.ok(j.json.keys.length >= 1);
  assert.ok(j.json.keys.every((k) => !('d' in k)), 'no private key member in the public set');
});

test('X-Correlation-ID: a valid one is echoed, an invalid or missing one replaced by a UUID', async () => {
  const mine = 'req-1.ok_ID';
  const a = await call('GET', '/health', { headers: { 'X-Correlation-ID': mine } });
  assert.equal(a.headers.get('x-correlation-id'), mine);
  const b = await call('GET', '/health', { headers: { 'X-Correlation-ID': 'bad id with spaces' } });
  assert.match(b.headers.get('x-correlation-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const c = await call('GET', '/health', { headers: { 'X-Correlation-ID': 'x'.repeat(65) } });
  assert.notEqual(c.headers.get('x-correlation-id'), 'x'.repeat(65));
  const d = await call('GET', '/health');
  assert.match(d.headers.get('x-correlation-id'), /^[0-9a-f-]{36}$/);
  // A traceparent, valid or not, goes into the ctx or is dropped: never an error.
  for (const tp of ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'garbage'])
    assert.equal((await call('GET', '/api/v1/movies', { headers: { traceparent: tp, 'X-Correlation-ID': mine } })).status, 200, tp);
  const e = await call('GET', '/api/v1/nothing-here', { headers: { 'X-Correlation-ID': mine } });
  expectError(e, 404, 'NOT_FOUND');
  assert.equal(e.headers.get('x-correlation-id'), mine, 'errors carry it too');
});

test('unknown route 404, wrong method 405, both with the error body', async () => {
  expectError(await call('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
  expectError(await call('GET', '/nothing.txt'), 404, 'NOT_FOUND');
  expectError(await call('DELETE', '/api/v1/movies'), 405, 'METHOD_NOT_ALLOWED');
  expectError(await call('PUT', '/api/v1/bookings'), 405, 'METHOD_NOT_ALLOWED');
  expectError(await call('GET', '/api/v1/auth/login'), 405, 'METHOD_NOT_ALLOWED');
});

// ---- auth -------------------------------------------------------------------
test('auth: register, login, me, logout revokes the token', async () => {
  const email = `${uniq('Carol')}@Example.com`;
  const r = await call('POST', '/api/v1/auth/register', { body: { email, password: PASSWORD } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.email, email.toLowerCase());
  assert.equal(r.json.user.role, 'customer');
  expectError(await call('POST', '/api/v1/auth/register', { body: { email, password: PASSWORD } }), 409, 'ALREADY_EXISTS');
  expectError(await call('POST', '/api/v1/auth/register', { body: { email: uniq('w') + '@example.com', password: 'short' } }), 422, 'VALIDATION_ERROR');
  expectError(await call('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD + 'x' } }), 401, 'UNAUTHORIZED');
  expectError(await call('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.com', password: PASSWORD } }), 401, 'UNAUTHORIZED');
  const l = await call('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(l.status, 200);
  assert.equal(l.json.token_type, 'Bearer');
  assert.ok(l.json.expires_in > 0 && l.json.expires_in <= 7200);
  assert.equal(l.json.user.id, r.json.user.id);
  const me = await call('GET', '/api/v1/auth/me', { token: l.json.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.json.user.id, r.json.user.id);
  expectError(await call('GET', '/api/v1/auth/me'), 401, 'UNAUTHORIZED', 'no token');
  expectError(await call('GET', '/api/v1/auth/me', { token: 'not.a.token' }), 401, 'UNAUTHORIZED', 'garbage token');
  expectError(await call('GET', '/api/v1/movies', { token: 'not.a.token' }), 401, 'UNAUTHORIZED', 'an invalid token on an anonymous route');
  expectError(await call('POST', '/api/v1/auth/logout'), 401, 'UNAUTHORIZED');
  const out = await call('POST', '/api/v1/auth/logout', { token: l.json.access_token });
  assert.equal(out.status, 204);
  expectError(await call('GET', '/api/v1/auth/me', { token: l.json.access_token }), 401, 'UNAUTHORIZED', 'revoked token');
  expectError(await call('GET', '/api/v1/bookings', { token: l.json.access_token }), 401, 'UNAUTHORIZED', 'revoked token');
});

// ---- catalog ----------------------------------------------------------------
test('catalog: admin creates, everyone reads, customers get 403, anonymous 401', async () => {
  F.alice = await registerAndLogin('alice');
  F.bob = await registerAndLogin('bob');
  const a = F.admin.token;
  const t = await call('POST', '/api/v1/theaters', { token: a, body: { name: 'Le Grand Rex', city: 'Paris' } });
  assert.equal(t.status, 201, t.text);
  F.theater = t.json;
  const t2 = await call('POST', '/api/v1/theaters', { token: a, body: { name: 'No City' } });
  assert.equal(t2.status, 201, t2.text);
  const m = await call('POST', '/api/v1/movies', { token: a, body: { title: 'The Matrix', duration_minutes: 136 } });
  assert.equal(m.status, 201, m.text);
  F.movie = m.json;
  const s = await call('POST', `/api/v1/theaters/${F.theater.id}/screens`, { token: a, body: { name: 'Salle 1', layout: 'A-H:4+8+4,J:10:premium' } });
  assert.equal(s.status, 201, s.text);
  assert.equal(s.json.seat_count, 8 * 16 + 10);
  assert.equal(s.json.seats.find((x) => x.label === 'A5').column, 6, 'aisles count in columns');
  F.screen = s.json;
  const starts = new Date(Date.now() + 86400000);
  starts.setUTCMilliseconds(0);
  const st = await call('POST', '/api/v1/showtimes', { token: a, body: { movie_id: F.movie.id, screen_id: F.screen.id, starts_at: starts.toISOString(), currency: 'EUR', prices: { standard: 1250, premium: 1850 } } });
  assert.equal(st.status, 201, st.text);
  assert.equal(st.json.starts_at, starts.toISOString());
  assert.deepEqual(st.json.prices, { standard: 1250, premium: 1850 });
  F.showtime = st.json;
  const st2 = await call('POST', '/api/v1/showtimes', { token: a, body: { movie_id: F.movie.id, screen_id: F.screen.id, starts_at: starts.getTime() + 3600000, currency: 'EUR', prices: { standard: 1000, premium: 1500 } } });
  assert.equal(st2.status, 201, st2.text);
  assert.equal(st2.json.starts_at, new Date(starts.getTime() + 3600000).toISOString(), 'epoch ms accepted');

  assert.ok((await call('GET', '/api/v1/movies')).json.items.some((x) => x.id === F.movie.id));
  assert.ok((await call('GET', '/api/v1/theaters', { token: F.alice.token })).json.items.some((x) => x.id === F.theater.id));
  const sc = await call('GET', `/api/v1/screens/${F.screen.id}`);
  assert.deepEqual(sc.json, F.screen);
  const list = await call('GET', `/api/v1/showtimes?movie_id=${F.movie.id}`);
  assert.deepEqual(list.json.items.map((x) => x.id).sort(), [F.showtime.id, st2.json.id].sort());
  assert.ok((await call('GET', '/api/v1/showtimes')).json.items.length >= 2);
  assert.deepEqual((await call('GET', `/api/v1/showtimes/${F.showtime.id}`)).json, F.showtime);

  const unknown = '01900000-0000-7000-8000-000000000000';
  expectError(await call('GET', `/api/v1/showtimes/${unknown}`), 404, 'SHOWTIME_NOT_FOUND');
  expectError(await call('GET', `/api/v1/showtimes/${unknown}/seats`), 404, 'SHOWTIME_NOT_FOUND');
  expectError(await call('GET', `/api/v1/screens/${unknown}`), 404, 'SCREEN_NOT_FOUND');
  expectError(await call('POST', `/api/v1/theaters/${unknown}/screens`, { token: a, body: { name: 'X', layout: 'A:5' } }), 404, 'THEATER_NOT_FOUND');
  expectError(await call('POST', '/api/v1/showtimes', { token: a, body: { movie_id: unknown, screen_id: F.screen.id, starts_at: starts.toISOString(), currency: 'EUR', prices: { standard: 1, premium: 1 } } }), 404, 'MOVIE_NOT_FOUND');
  expectError(await call('POST', '/api/v1/showtimes', { token: a, body: { movie_id: F.movie.id, screen_id: F.screen.id, starts_at: starts.toISOString(), currency: 'EUR', prices: { standard: 1 } } }), 422, 'VALIDATION_ERROR', 'a category without a price');
  expectError(await call('POST', `/api/v1/theaters/${F.theater.id}/screens`, { token: a, body: { name: 'Bad', layout: 'A-:x' } }), 422, 'VALIDATION_ERROR', 'a bad layout');

  // Admin routes as a customer, and anonymously.
  const c = F.alice.token;
  expectError(await call('POST', '/api/v1/movies', { token: c, body: { title: 'X', duration_minutes: 90 } }), 403, 'FORBIDDEN');
  expectError(await call('POST', '/api/v1/theaters', { token: c, body: { name: 'X' } }), 403, 'FORBIDDEN');
  expectError(await call('POST', `/api/v1/theaters/${F.theater.id}/screens`, { token: c, body: { name: 'X', layout: 'A:5' } }), 403, 'FORBIDDEN');
  expectError(await call('POST', '/api/v1/showtimes', { token: c, body: { movie_id: F.movie.id, screen_id: F.screen.id, starts_at: starts.toISOString(), currency: 'EUR', prices: { standard: 1, premium: 1 } } }), 403, 'FORBIDDEN');
  expectError(await call('GET', `/api/v1/showtimes/${F.showtime.id}/bookings`, { token: c }), 403, 'FORBIDDEN');
  expectError(await call('POST', `/api/v1/showtimes/${F.showtime.id}/block`, { token: c, body: { seats: ['A1'], reason: 'press' } }), 403, 'FORBIDDEN');
  expectError(await call('POST', `/api/v1/showtimes/${F.showtime.id}/unblock`, { token: c, body: { seats: ['A1'] } }), 403, 'FORBIDDEN');
  expectError(await call('POST', '/api/v1/movies', { body: { title: 'X', duration_minutes: 90 } }), 401, 'UNAUTHORIZED');
});

// ---- request bodies -----------------------------------------------------------
test('bodies: 400 bad JSON and bad UTF-8, 422 unknown field / wrong type / missing field, 413 too large', async () => {
  const a = F.admin.token;
  expectError(await call('POST', '/api/v1/movies', { token: a, raw: '{"title": "X", ' }), 400, 'BAD_REQUEST', 'truncated JSON');
  expectError(await call('POST', '/api/v1/movies', { token: a, raw: '[1,2]' }), 400, 'BAD_REQUEST', 'not an object');
  expectError(await call('POST', '/api/v1/movies', { token: a, raw: Buffer.from([0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }), 400, 'BAD_REQUEST', 'bad UTF-8');
  let r = await call('POST', '/api/v1/movies', { token: a, body: { title: 'X', duration_minutes: 90, rating: 'PG' } });
  expectError(r, 422, 'VALIDATION_ERROR', 'unknown field');
  assert.equal(r.json.error.details.field, 'rating');
  r = await call('POST', '/api/v1/movies', { token: a, body: { title: 'X', duration_minutes: '90' } });
  expectError(r, 422, 'VALIDATION_ERROR', 'wrong type');
  assert.equal(r.json.error.details.field, 'duration_minutes');
  r = await call('POST', '/api/v1/movies', { token: a, body: { duration_minutes: 90 } });
  expectError(r, 422, 'VALIDATION_ERROR', 'missing field');
  assert.equal(r.json.error.details.field, 'title');
  r = await call('POST', '/api/v1/bookings', { token: F.alice.token, body: { showtime_id: F.showtime.id, seat_ids: ['A1'], seats: ['A2'] } });
  expectError(r, 422, 'VALIDATION_ERROR', 'unknown field in a hold');
  assert.equal(r.json.error.details.field, 'seats');
  const big = JSON.stringify({ title: 'x'.repeat(70 * 1024), duration_minutes: 90 });
  expectError(await call('POST', '/api/v1/movies', { token: a, raw: big }), 413, 'PAYLOAD_TOO_LARGE');
  // The server still answers after all that.
  assert.equal((await call('GET', '/health')).status, 200);
});

// ---- seat map, ETag ---------------------------------------------------------
test('seat map: ETag, If-None-Match → 304, a hold changes the ETag', async () => {
  const path = `/api/v1/showtimes/${F.showtime.id}/seats`;
  const m = await call('GET', path);
  assert.equal(m.status, 200);
  assert.equal(m.json.seat_count, F.screen.seat_count);
  assert.equal(m.json.free, F.screen.seat_count);
  const etag = m.headers.get('etag');
  const nm = await call('GET', path, { headers: { 'If-None-Match': etag } });
  assert.equal(nm.status, 304);
  assert.equal(nm.text, '');
  const other = await call('GET', path, { headers: { 'If-None-Match': '"something-else"' } });
  assert.equal(other.status, 200);
  const h = await hold(F.bob.token, F.showtime.id, ['H1']);
  assert.equal(h.status, 201, h.text);
  const after = await call('GET', path, { headers: { 'If-None-Match': etag } });
  assert.equal(after.status, 200, 'the map changed');
  assert.notEqual(after.headers.get('etag'), etag);
  assert.equal(after.json.seats.find((s) => s.label === 'H1').status, 'held');
  assert.equal(after.json.held, 1);
  F.bobH1 = h.json;
});

// ---- holds ------------------------------------------------------------------
test('holds: named 201, taken 409, Idempotency-Key replay 200, best available, paging, owner only', async () => {
  const c = F.alice.token;
  expectError(await hold(undefined, F.showtime.id, ['A1']), 401, 'UNAUTHORIZED');
  const h = await hold(c, F.showtime.id, ['C7', 'C8']);
  assert.equal(h.status, 201, h.text);
  assert.equal(h.json.status, 'PENDING');
  assert.deepEqual(h.json.seats.map((s) => s.label), ['C7', 'C8']);
  assert.equal(h.json.total_amount, 2500);
  assert.equal(h.json.currency, 'EUR');
  assert.equal(h.json.user_id, F.alice.user.id);
  const left = Date.parse(h.json.expires_at) - Date.parse(h.json.created_at);
  assert.equal(left, EXPIRY_MINUTES * 60000, 'BOOKING_EXPIRY_MINUTES applies');
  let r = await hold(F.bob.token, F.showtime.id, ['C8', 'C9']);
  expectError(r, 409, 'SEAT_ALREADY_BOOKED');
  assert.deepEqual(r.json.error.details.seats, ['C8']);
  expectError(await hold(c, F.showtime.id, ['Z99']), 422, 'VALIDATION_ERROR', 'no such seat');
  expectError(await hold(c, '01900000-0000-7000-8000-000000000000', ['A1']), 404, 'SHOWTIME_NOT_FOUND');

  // Idempotency-Key: the same request again answers the first hold, 200.
  const key = uniq('hold-key');
  const k1 = await hold(c, F.showtime.id, ['D1', 'D2'], { 'Idempotency-Key': key });
  assert.equal(k1.status, 201, k1.text);
  const k2 = await hold(c, F.showtime.id, ['D1', 'D2'], { 'Idempotency-Key': key });
  assert.equal(k2.status, 200, k2.text);
  assert.equal(k2.json.id, k1.json.id);
  expectError(await hold(c, F.showtime.id, ['D3'], { 'Idempotency-Key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
  const other = await hold(F.bob.token, F.showtime.id, ['D3'], { 'Idempotency-Key': key });
  assert.equal(other.status, 201, 'keys are per user: another user\'s same key is a new request');

  // Best available: the library chooses.
  const b = await call('POST', '/api/v1/bookings', { token: c, body: { showtime_id: F.showtime.id, best: 3, category: 'premium' } });
  assert.equal(b.status, 201, b.text);
  assert.equal(b.json.seats.length, 3);
  assert.ok(b.json.seats.every((s) => s.row === 'J'), 'premium is row J');
  const rows = new Set(b.json.seats.map((s) => s.number));
  assert.equal(rows.size, 3);
  const nums = b.json.seats.map((s) => s.number).sort((x, y) => x - y);
  assert.equal(nums[2] - nums[0], 2, 'side by side');
  expectError(await call('POST', '/api/v1/bookings', { token: c, body: { showtime_id: F.showtime.id, best: 8, category: 'premium' } }), 409, 'NOT_ENOUGH_SEATS');
  const bk = uniq('best-key');
  const b1 = await call('POST', '/api/v1/bookings', { token: c, body: { showtime_id: F.showtime.id, best: 2 }, headers: { 'Idempotency-Key': bk } });
  assert.equal(b1.status, 201, b1.text);
  const b2 = await call('POST', '/api/v1/bookings', { token: c, body: { showtime_id: F.showtime.id, best: 2 }, headers: { 'Idempotency-Key': bk } });
  assert.equal(b2.status, 200);
  assert.deepEqual(b2.json.seats, b1.json.seats, 'a replayed best answers the seats chosen the first time');
  expectError(await call('POST', '/api/v1/bookings', { token: c, body: { showtime_id: F.showtime.id, best: 0 } }), 422, 'VALIDATION_ERROR');

  // Mine, newest first, paged.
  const p1 = await call('GET', '/api/v1/bookings?limit=2', { token: c });
  assert.equal(p1.status, 200);
  assert.equal(p1.json.items.length, 2);
  assert.equal(p1.json.items[0].id, b1.json.id, 'newest first');
  assert.equal(typeof p1.json.next_cursor, 'string');
  const seen = new Set(p1.json.items.map((x) => x.id));
  let cursor = p1.json.next_cursor;
  while (cursor) {
    const p = await call('GET', `/api/v1/bookings?limit=2&cursor=${encodeURIComponent(cursor)}`, { token: c });
    assert.equal(p.status, 200);
    p.json.items.forEach((x) => seen.add(x.id));
    cursor = p.json.next_cursor;
  }
  for (const id of [h.json.id, k1.json.id, b.json.id, b1.json.id]) assert.ok(seen.has(id), `${id} listed`);
  assert.ok(![...seen].includes(F.bobH1.id), 'only mine');
  expectError(await call('GET', '/api/v1/bookings?cursor=not-a-cursor', { token: c }), 422, 'VALIDATION_ERROR');
  expectError(await call('GET', '/api/v1/bookings?limit=0', { token: c }), 422, 'VALIDATION_ERROR');

  const g = await call('GET', `/api/v1/bookings/${h.json.id}`, { token: c });
  assert.deepEqual(g.json, h.json);
  expectError(await call('GET', `/api/v1/bookings/${h.json.id}`, { token: F.bob.token }), 403, 'FORBIDDEN', 'another user\'s');
  assert.equal((await call('GET', `/api/v1/bookings/${h.json.id}`, { token: F.admin.token })).status, 200, 'an admin may');
  expectError(await call('GET', '/api/v1/bookings/01900000-0000-7000-8000-000000000000', { token: c }), 404, 'RESERVATION_NOT_FOUND');
  F.aliceC7 = h.json;
});

test('extend, change, cancel', async () => {
  const c = F.alice.token;
  const h = await hold(c, F.showtime.id, ['E5', 'E6']);
  assert.equal(h.status, 201);
  const e = await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c, body: { minutes: 2 } });
  assert.equal(e.status, 200, e.text);
  assert.equal(Date.parse(e.json.expires_at) - Date.parse(h.json.expires_at), 2 * 60000);
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c, body: { minutes: 99 } }), 422, 'VALIDATION_ERROR');
  // Up to the cap (twice the expiry from creation), then HOLD_LIMIT_REACHED.
  const e2 = await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c });
  assert.equal(e2.status, 200, e2.text);
  assert.equal(Date.parse(e2.json.expires_at) - Date.parse(h.json.created_at), 2 * EXPIRY_MINUTES * 60000, 'stops at the cap');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c, body: {} }), 409, 'HOLD_LIMIT_REACHED');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: F.bob.token, body: {} }), 403, 'FORBIDDEN');

  const ch = await call('POST', `/api/v1/bookings/${h.json.id}/change`, { token: c, body: { add: ['E7'], remove: ['E5'] } });
  assert.equal(ch.status, 200, ch.text);
  assert.deepEqual(ch.json.seats.map((s) => s.label), ['E6', 'E7']);
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/change`, { token: c, body: { add: ['C7'] } }), 409, 'SEAT_ALREADY_BOOKED');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/change`, { token: c, body: { remove: ['A1'] } }), 422, 'VALIDATION_ERROR');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/change`, { token: c, body: { add: 'E8' } }), 422, 'VALIDATION_ERROR', 'wrong type');

  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/cancel`, { token: F.bob.token }), 403, 'FORBIDDEN');
  const x = await call('POST', `/api/v1/bookings/${h.json.id}/cancel`, { token: c });
  assert.equal(x.status, 200, x.text);
  assert.equal(x.json.status, 'CANCELLED');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/cancel`, { token: c }), 409, 'INVALID_STATE');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c, body: {} }), 409, 'INVALID_STATE');
  const m = await call('GET', `/api/v1/showtimes/${F.showtime.id}/seats`);
  assert.equal(m.json.seats.find((s) => s.label === 'E7').status, 'free', 'cancel frees the seats');
});

// ---- §10.3: two users, one seat -----------------------------------------------
test('§10.3 concurrent booking of the same seat: exactly one 201, one 409 SEAT_ALREADY_BOOKED', async () => {
  const st = await newShowtime('A-B:10', { standard: 1000 });
  const users = [F.alice, F.bob];
  for (const seat of ['A1', 'A5', 'B3', 'B10', 'A10']) {
    const rs = await Promise.all(users.map((u) => hold(u.token, st.id, [seat])));
    const codes = rs.map((r) => r.status).sort();
    assert.deepEqual(codes, [201, 409], `seat ${seat}: ${rs.map((r) => r.text).join(' | ')}`);
    const loser = rs.find((r) => r.status === 409);
    expectError(loser, 409, 'SEAT_ALREADY_BOOKED');
    assert.deepEqual(loser.json.error.details.seats, [seat]);
    const winner = rs.find((r) => r.status === 201);
    const m = await call('GET', `/api/v1/showtimes/${st.id}/seats`);
    assert.equal(m.json.seats.find((s) => s.label === seat).status, 'held');
    assert.ok(winner.json.seats.some((s) => s.label === seat));
  }
  // Many at once: eight requests for one seat, four users twice each.
  const crowd = await Promise.all([...users, ...users, ...users, ...users].map((u) => hold(u.token, st.id, ['B5'])));
  assert.equal(crowd.filter((r) => r.status === 201).length, 1, crowd.map((r) => r.status).join(','));
  assert.equal(crowd.filter((r) => r.status === 409 && r.json.error.code === 'SEAT_ALREADY_BOOKED').length, 7);
});

// ---- payments -----------------------------------------------------------------
function paymentsInStore() {
  const r = cli(['--as', 'system', 'check']);
  assert.ok(r.json && r.json.examined, `booking check: ${r.stdout} ${r.stderr}`);
  assert.equal(r.json.ok, true, `booking check found violations: ${r.stdout}`);
  return r.json.examined.payments;
}

test('§10.3 payment idempotency: the same key twice → the same payment, one payment in the store', async () => {
  const c = F.alice.token;
  const h = await hold(c, F.showtime.id, ['F1', 'F2']);
  assert.equal(h.status, 201);
  const before = paymentsInStore();
  const key = uniq('order');
  const p1 = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': key } });
  assert.equal(p1.status, 201, p1.text);
  assert.equal(p1.json.status, 'SUCCEEDED');
  assert.equal(p1.json.amount, 2500);
  assert.equal(p1.json.card_last4, '4242');
  assert.equal(p1.json.reservation_id, h.json.id);
  const p2 = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': key } });
  assert.equal(p2.status, 200, p2.text);
  assert.equal(p2.json.id, p1.json.id);
  // The original API's form: the key in the body; both forms name one request.
  const p3 = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK, idempotency_key: key } });
  assert.equal(p3.status, 200, p3.text);
  assert.equal(p3.json.id, p1.json.id);
  const p4 = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK, idempotency_key: key }, headers: { 'Idempotency-Key': key } });
  assert.equal(p4.status, 200, p4.text);
  expectError(await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK, idempotency_key: key + 'x' }, headers: { 'Idempotency-Key': key } }), 422, 'VALIDATION_ERROR', 'header and body disagree');
  expectError(await call('POST', '/api/v1/payments', { token: c, body: { booking_id: F.aliceC7.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': key } }), 422, 'IDEMPOTENCY_KEY_REUSED');
  expectError(await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK } }), 422, 'VALIDATION_ERROR', 'no key at all');
  assert.equal(paymentsInStore(), before + 1, 'one payment in the store');
  const g = await call('GET', `/api/v1/payments/${p1.json.id}`, { token: c });
  assert.equal(g.json.id, p1.json.id);
  assert.equal(g.json.status, 'SUCCEEDED');
  expectError(await call('GET', `/api/v1/payments/${p1.json.id}`, { token: F.bob.token }), 403, 'FORBIDDEN');
  expectError(await call('GET', '/api/v1/payments/01900000-0000-7000-8000-000000000000', { token: c }), 404, 'PAYMENT_NOT_FOUND');
  const b = await call('GET', `/api/v1/bookings/${h.json.id}`, { token: c });
  assert.equal(b.json.status, 'CONFIRMED');
  const m = await call('GET', `/api/v1/showtimes/${F.showtime.id}/seats`);
  assert.equal(m.json.seats.find((s) => s.label === 'F1').status, 'sold');
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/cancel`, { token: c }), 409, 'INVALID_STATE', 'a paid hold is refunded, not cancelled');

  // The door list (admin): the confirmed booking is on it.
  const door = await call('GET', `/api/v1/showtimes/${F.showtime.id}/bookings?status=CONFIRMED`, { token: F.admin.token });
  assert.equal(door.status, 200);
  assert.deepEqual(door.json.items.map((x) => x.id), [h.json.id]);
  assert.equal(door.json.next_cursor, null);
  const all = await call('GET', `/api/v1/showtimes/${F.showtime.id}/bookings?limit=500`, { token: F.admin.token });
  assert.ok(all.json.items.some((x) => x.user_id === F.bob.user.id) && all.json.items.some((x) => x.user_id === F.alice.user.id), 'every buyer\'s');
  expectError(await call('GET', `/api/v1/showtimes/${F.showtime.id}/bookings?status=NOPE`, { token: F.admin.token }), 422, 'VALIDATION_ERROR');

  // Refund (admin only), in the server's process where the simulated gateway keeps the charge.
  expectError(await call('POST', `/api/v1/payments/${p1.json.id}/refund`, { token: c }), 403, 'FORBIDDEN');
  const rf = await call('POST', `/api/v1/payments/${p1.json.id}/refund`, { token: F.admin.token });
  assert.equal(rf.status, 200, rf.text);
  assert.equal(rf.json.status, 'REFUNDED');
  assert.equal(rf.json.refunded_amount, 2500);
  expectError(await call('POST', `/api/v1/payments/${p1.json.id}/refund`, { token: F.admin.token }), 409, 'INVALID_STATE');
  F.payment = p1.json;
});

test('payments: declined card 402, a cancelled hold 409', async () => {
  const c = F.bob.token;
  const h = await hold(c, F.showtime.id, ['G1']);
  assert.equal(h.status, 201);
  const d = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_DECLINED }, headers: { 'Idempotency-Key': uniq('decl') } });
  expectError(d, 402, 'PAYMENT_DECLINED');
  const ok = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('retry') } });
  assert.equal(ok.status, 201, 'the hold stays after a decline (KEEP_HOLD): a new key pays');
  expectError(await call('POST', '/api/v1/payments', { token: F.alice.token, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('x') } }), 403, 'FORBIDDEN');
  const h2 = await hold(c, F.showtime.id, ['G2']);
  await call('POST', `/api/v1/bookings/${h2.json.id}/cancel`, { token: c });
  expectError(await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h2.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('c') } }), 409, 'INVALID_STATE');
  expectError(await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h2.json.id, card_number: 42 }, headers: { 'Idempotency-Key': uniq('c') } }), 422, 'VALIDATION_ERROR');
});

test('payments: after 5 declines of one hold, 429 RATE_LIMITED; a malformed Idempotency-Key 422', async () => {
  const dave = await registerAndLogin('dave');
  const h = await hold(dave.token, F.showtime.id, ['G5']);
  assert.equal(h.status, 201, h.text);
  for (let i = 0; i < 5; i++)
    expectError(await call('POST', '/api/v1/payments', { token: dave.token, body: { booking_id: h.json.id, card_number: CARD_DECLINED }, headers: { 'Idempotency-Key': uniq('d') } }), 402, 'PAYMENT_DECLINED', `decline ${i + 1}`);
  const r = await call('POST', '/api/v1/payments', { token: dave.token, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('d') } });
  expectError(r, 429, 'RATE_LIMITED');
  assert.equal(r.json.error.details.limit, 'max_failed_payments_per_reservation', r.text);
  expectError(await hold(dave.token, F.showtime.id, ['G6'], { 'Idempotency-Key': 'k'.repeat(300) }), 422, 'VALIDATION_ERROR', 'a 300-character key');
  expectError(await hold(dave.token, F.showtime.id, ['G6'], { 'Idempotency-Key': 'tab\there' }), 422, 'VALIDATION_ERROR', 'a control character in the key');
});

test('a malformed id in the path is an error body, never a crash', async () => {
  for (const p of ['/api/v1/showtimes/not-an-id', '/api/v1/showtimes/%00%ff/seats', `/api/v1/screens/${'x'.repeat(300)}`]) {
    const r = await call('GET', p);
    assert.ok([404, 422].includes(r.status), `${p}: ${r.status} ${r.text}`);
  }
  const r = await call('GET', '/api/v1/bookings/not-an-id', { token: F.alice.token });
  assert.ok([404, 422].includes(r.status), r.text);
});

// ---- block / unblock ------------------------------------------------------------
test('block and unblock (admin)', async () => {
  const a = F.admin.token;
  const path = `/api/v1/showtimes/${F.showtime.id}`;
  const b = await call('POST', `${path}/block`, { token: a, body: { seats: ['A1', 'A2'], reason: 'wheelchair' } });
  assert.equal(b.status, 204, b.text);
  const m = await call('GET', `${path}/seats`);
  const a1 = m.json.seats.find((s) => s.label === 'A1');
  assert.equal(a1.status, 'blocked');
  assert.equal(a1.reason, 'wheelchair');
  assert.equal(m.json.blocked, 2);
  expectError(await hold(F.alice.token, F.showtime.id, ['A1']), 409, 'SEAT_ALREADY_BOOKED', 'a blocked seat');
  expectError(await call('POST', `${path}/block`, { token: a, body: { seats: ['A1'], reason: 'press' } }), 409, 'SEAT_ALREADY_BOOKED', 'blocked already');
  expectError(await call('POST', `${path}/block`, { token: a, body: { seats: ['A3'], reason: 'Not Valid!' } }), 422, 'VALIDATION_ERROR');
  // an admin sells a blocked seat to a named user on purpose; a customer cannot
  expectError(await call('POST', '/api/v1/bookings', { token: F.alice.token, body: { showtime_id: F.showtime.id, seat_ids: ['A2'], for_user_id: F.bob.user.id } }), 403, 'FORBIDDEN');
  const sold = await call('POST', '/api/v1/bookings', { token: a, body: { showtime_id: F.showtime.id, seat_ids: ['A2'], for_user_id: F.alice.user.id } });
  assert.equal(sold.status, 201, sold.text);
  assert.equal(sold.json.user_id, F.alice.user.id);
  assert.equal((await call('GET', `${path}/seats`)).json.seats.find((s) => s.label === 'A2').status, 'held');
  const u = await call('POST', `${path}/unblock`, { token: a, body: { seats: ['A1'] } });
  assert.equal(u.status, 204, u.text);
  expectError(await call('POST', `${path}/unblock`, { token: a, body: { seats: ['A1'] } }), 409, 'INVALID_STATE');
  assert.equal((await call('GET', `${path}/seats`)).json.blocked, 0);
  assert.equal((await call('POST', `/api/v1/bookings/${sold.json.id}/cancel`, { token: F.alice.token })).status, 200);
});

// ---- the waiting list -----------------------------------------------------------
test('waitlist: join when sold out 201, a second join 409, list, process (admin), leave 204', async () => {
  const st = await newShowtime('A:2', { standard: 1000 });
  const path = `/api/v1/showtimes/${st.id}/waitlist`;
  const carol = await registerAndLogin('carol');
  const erin = await registerAndLogin('erin');
  const sold = await hold(F.bob.token, st.id, ['A1', 'A2']);
  assert.equal(sold.status, 201, sold.text);
  expectError(await call('POST', path, { body: { party_size: 1 } }), 401, 'UNAUTHORIZED');
  expectError(await call('POST', path, { token: carol.token, body: { party_size: 0 } }), 422, 'VALIDATION_ERROR', 'party_size 0');
  expectError(await call('POST', path, { token: carol.token, body: { party_size: '1' } }), 422, 'VALIDATION_ERROR', 'party_size as text');
  expectError(await call('POST', path, { token: carol.token, body: { party_size: 1, seats: 2 } }), 422, 'VALIDATION_ERROR', 'an unknown field');
  expectError(await call('POST', '/api/v1/showtimes/01900000-0000-7000-8000-000000000000/waitlist', { token: carol.token, body: { party_size: 1 } }), 404, 'SHOWTIME_NOT_FOUND');

  // Sold out: carol waits first, erin second.
  const j = await call('POST', path, { token: carol.token, body: { party_size: 1 } });
  assert.equal(j.status, 201, j.text);
  assert.equal(j.json.status, 'WAITING');
  assert.equal(j.json.position, 1);
  assert.equal(j.json.party_size, 1);
  assert.equal(j.json.user_id, carol.user.id);
  assert.equal(j.json.showtime_id, st.id);
  assert.equal(j.json.reservation_id, null);
  assert.equal(j.json.offer_expires_at, null);
  const again = await call('POST', path, { token: carol.token, body: { party_size: 1 } });
  expectError(again, 409, 'ALREADY_EXISTS', 'a second join');
  const j2 = await call('POST', path, { token: erin.token, body: { party_size: 2, category: 'standard' } });
  assert.equal(j2.status, 201, j2.text);
  assert.equal(j2.json.position, 2);
  assert.equal(j2.json.category, 'standard');

  // An admin sees the line in join order; a customer their own entry.
  const all = await call('GET', path, { token: F.admin.token });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json.items.map((e) => [e.user_id, e.position, e.status]), [[carol.user.id, 1, 'WAITING'], [erin.user.id, 2, 'WAITING']]);
  const own = await call('GET', path, { token: erin.token });
  assert.deepEqual(own.json.items.map((e) => e.user_id), [erin.user.id]);
  assert.deepEqual((await call('GET', path, { token: F.alice.token })).json.items, [], 'not on the list: nothing');
  expectError(await call('GET', path), 401, 'UNAUTHORIZED');

  // A seat comes back: it is offered to carol (first in line, and she fits), as her hold.
  const seatsBack = await call('POST', `/api/v1/bookings/${sold.json.id}/change`, { token: F.bob.token, body: { remove: ['A2'] } });
  assert.equal(seatsBack.status, 200, seatsBack.text);
  const mine = (await call('GET', path, { token: carol.token })).json.items[0];
  assert.equal(mine.status, 'OFFERED', JSON.stringify(mine));
  assert.ok(mine.reservation_id && mine.offer_expires_at, JSON.stringify(mine));
  const offer = await call('GET', `/api/v1/bookings/${mine.reservation_id}`, { token: carol.token });
  assert.equal(offer.status, 200, offer.text);
  assert.equal(offer.json.status, 'PENDING');
  assert.equal(offer.json.user_id, carol.user.id);
  assert.deepEqual(offer.json.seats.map((s) => s.label), ['A2']);
  assert.equal(offer.json.expires_at, mine.offer_expires_at);

  // process: admin only; nothing more to offer (erin's party of 2 does not fit).
  expectError(await call('POST', `${path}/process`, { token: carol.token }), 403, 'FORBIDDEN');
  const p = await call('POST', `${path}/process`, { token: F.admin.token });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual(p.json, { offers: 0 });

  // carol pays the offer: it is fulfilled and leaves the list.
  const paid = await call('POST', '/api/v1/payments', { token: carol.token, body: { booking_id: mine.reservation_id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('wl') } });
  assert.equal(paid.status, 201, paid.text);
  const after = await call('GET', path, { token: F.admin.token });
  assert.deepEqual(after.json.items.map((e) => [e.user_id, e.position]), [[erin.user.id, 1]]);

  // Leaving: a customer only themselves (403 for another's), an admin anyone's; twice is 404.
  expectError(await call('DELETE', `${path}?user_id=${erin.user.id}`, { token: carol.token }), 403, 'FORBIDDEN');
  expectError(await call('DELETE', path, { token: carol.token }), 404, 'NOT_FOUND', 'carol is no longer on the list');
  const left = await call('DELETE', path, { token: erin.token });
  assert.equal(left.status, 204, left.text);
  expectError(await call('DELETE', path, { token: erin.token }), 404, 'NOT_FOUND');
  const back = await call('POST', path, { token: erin.token, body: { party_size: 1 } });
  assert.equal(back.status, 201, back.text);
  const gone = await call('DELETE', `${path}?user_id=${erin.user.id}`, { token: F.admin.token });
  assert.equal(gone.status, 204, gone.text);
  assert.deepEqual((await call('GET', path, { token: F.admin.token })).json.items, []);
  expectError(await call('PUT', path, { token: F.admin.token }), 405, 'METHOD_NOT_ALLOWED');
  assert.equal((await call('POST', `/api/v1/bookings/${sold.json.id}/cancel`, { token: F.bob.token })).status, 200);
});

test('waitlist: leaving gives the offer up, and the seats pass to the next party', async () => {
  const st = await newShowtime('A:1', { standard: 1000 });
  const path = `/api/v1/showtimes/${st.id}/waitlist`;
  const frank = await registerAndLogin('frank');
  const grace = await registerAndLogin('grace');
  const sold = await hold(F.bob.token, st.id, ['A1']);
  assert.equal(sold.status, 201, sold.text);
  assert.equal((await call('POST', path, { token: frank.token, body: { party_size: 1 } })).status, 201);
  assert.equal((await call('POST', path, { token: grace.token, body: { party_size: 1 } })).status, 201);
  assert.equal((await call('POST', `/api/v1/bookings/${sold.json.id}/cancel`, { token: F.bob.token })).status, 200);
  const first = (await call('GET', path, { token: frank.token })).json.items[0];
  assert.equal(first.status, 'OFFERED', JSON.stringify(first));
  assert.equal((await call('DELETE', path, { token: frank.token })).status, 204);
  const given = await call('GET', `/api/v1/bookings/${first.reservation_id}`, { token: frank.token });
  assert.equal(given.json.status, 'CANCELLED', 'the offer given up');
  const next = (await call('GET', path, { token: grace.token })).json.items[0];
  assert.equal(next.status, 'OFFERED', JSON.stringify(next));
  assert.equal(next.position, 1);
  assert.notEqual(next.reservation_id, first.reservation_id);
  assert.equal((await call('DELETE', path, { token: grace.token })).status, 204);
});

// ---- the fair-sale limits ------------------------------------------------------------
test('limits: GET /api/v1/limits shows the limits in effect', async () => {
  const r = await call('GET', '/api/v1/limits');
  assert.equal(r.status, 200, r.text);
  const l = r.json.limits;
  assert.deepEqual(l.max_seats_per_user_showtime, { value: 0, off: true, default: 10, unit: 'seats', variable: 'BOOKING_MAX_SEATS_PER_USER_SHOWTIME', set: true, error: 'LIMIT_REACHED', status: 409 }, 'the suite turns it off');
  assert.equal(l.rate_holds_per_minute.off, true);
  assert.equal(l.rate_holds_per_minute.status, 429);
  assert.equal(l.rate_burst.value, 5);
  assert.equal(l.waitlist_max_passes.value, 3);
  assert.equal(l.waitlist_max_entries.value, 1000);
});

test('rate limits: 429 RATE_LIMITED with Retry-After, per user and per client; a per-buyer limit stays 409', async () => {
  // A second server on the same store with a hold rate of 2 a minute (a burst of 2) and one live hold per buyer.
  const limited = await spawnServer({ BOOKING_RATE_HOLDS_PER_MINUTE: '2', BOOKING_RATE_BURST: '2', BOOKING_MAX_LIVE_HOLDS_PER_USER: '1' });
  try {
    const at = limited.url;
    const l = (await call('GET', '/api/v1/limits', { at })).json.limits;
    assert.equal(l.rate_holds_per_minute.value, 2);
    assert.equal(l.rate_holds_per_minute.set, true);
    assert.equal(l.rate_burst.value, 2);
    assert.equal(l.max_live_holds_per_user.value, 1);
    const st = await newShowtime('A:8', { standard: 1000 });
    const heidi = await registerAndLogin('heidi');
    const ivan = await registerAndLogin('ivan');
    const h1 = await call('POST', '/api/v1/bookings', { at, token: heidi.token, body: { showtime_id: st.id, seat_ids: ['A1'] } });
    assert.equal(h1.status, 201, h1.text);
    // The second hold passes the rate (burst 2) and meets the live-hold limit: 409, no Retry-After.
    const h2 = await call('POST', '/api/v1/bookings', { at, token: heidi.token, body: { showtime_id: st.id, seat_ids: ['A2'] } });
    expectError(h2, 409, 'LIMIT_REACHED', 'the live-hold limit');
    assert.equal(h2.json.error.details.limit, 'max_live_holds_per_user');
    assert.equal(h2.headers.get('retry-after'), null, 'a per-buyer limit is no matter of waiting');
    // The third within the minute is over the rate: 429 with Retry-After, the user's limit.
    const h3 = await call('POST', '/api/v1/bookings', { at, token: heidi.token, body: { showtime_id: st.id, seat_ids: ['A3'] } });
    expectError(h3, 429, 'RATE_LIMITED', 'the user over the hold rate');
    const d = h3.json.error.details;
    assert.equal(d.limit, 'rate_holds_per_minute');
    assert.equal(d.key, 'user');
    assert.ok(d.retry_after_seconds >= 1 && d.retry_after_seconds <= 30, JSON.stringify(d));
    assert.equal(h3.headers.get('retry-after'), String(d.retry_after_seconds));
    // Another user from the same address: the client key (127.0.0.1) has spent its burst too.
    const h4 = await call('POST', '/api/v1/bookings', { at, token: ivan.token, body: { showtime_id: st.id, seat_ids: ['A4'] } });
    expectError(h4, 429, 'RATE_LIMITED', 'the client over the hold rate');
    assert.equal(h4.json.error.details.key, 'client');
    assert.match(h4.headers.get('retry-after'), /^[1-9][0-9]*$/);
    // The suite's own server runs without rate limits: the same user holds there.
    const free = await hold(ivan.token, st.id, ['A5']);
    assert.equal(free.status, 201, free.text);
    // An administrator is not rate limited.
    const admin = await call('POST', '/api/v1/bookings', { at, token: F.admin.token, body: { showtime_id: st.id, seat_ids: ['A6'], for_user_id: ivan.user.id } });
    assert.equal(admin.status, 201, admin.text);
  } finally {
    const r = await stopProcess(limited.proc);
    assert.ok(!r || r.code === 0, `the second server exits 0 on SIGTERM (${JSON.stringify(r)})`);
  }
});

// ---- SSE ----------------------------------------------------------------------
async function* sseEvents(res) {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
      const ev = { event: 'message', data: [], comment: false };
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) ev.comment = true;
        else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
        else if (line.startsWith('data:')) ev.data.push(line.slice(5).replace(/^ /, ''));
      }
      if (ev.data.length || !ev.comment) yield { event: ev.event, data: ev.data.join('\n') };
    }
  }
}

test('SSE: the map first, then an event within 1 s of a hold by another client', async () => {
  const st = await newShowtime('A-C:8', { standard: 1000 });
  const ctl = new AbortController();
  const url = `${base}/api/v1/showtimes/${st.id}/events`;
  const res = await fetch(url, { signal: ctl.signal, headers: { 'X-Correlation-ID': 'sse-1', Accept: 'text/event-stream' } });
  try {
    assert.equal(res.status, 200);
    api.validate('GET', url, { status: res.status, headers: res.headers, text: '', json: undefined });
    assert.equal(res.headers.get('x-correlation-id'), 'sse-1');
    const it = sseEvents(res);
    const first = await Promise.race([it.next(), sleep(5000).then(() => ({ timeout: true }))]);
    assert.ok(!first.timeout, 'the first event within 5 s of connecting');
    assert.equal(first.value.event, 'seats');
    const map = api.check('SeatsEvent', JSON.parse(first.value.data), 'the first SSE event');
    assert.equal(map.showtime_id, st.id);
    assert.equal(map.free, 24);
    for (const seat of ['B4', 'C1']) {
      const t0 = Date.now();
      const h = await hold(F.bob.token, st.id, [seat]);
      assert.equal(h.status, 201);
      let got = null;
      while (!got) {
        const n = await Promise.race([it.next(), sleep(Math.max(1, 1000 - (Date.now() - t0) + 250)).then(() => ({ timeout: true }))]);
        if (n.timeout || n.done) break;
        if (n.value.event !== 'seats') continue;
        const data = api.check('SeatsEvent', JSON.parse(n.value.data), 'an SSE seats event');
        assert.equal(data.showtime_id, st.id);
        const shows = data.seats.some((s) => (typeof s === 'string' ? s === seat : s.label === seat && s.status === 'held'));
        if (shows) got = Date.now() - t0;
      }
      assert.ok(got !== null && got <= 1250, `an event showing ${seat} held arrived ${got === null ? 'never (within 1.25 s)' : `after ${got} ms`} (the relay runs every second)`);
    }
  } finally {
    ctl.abort();
  }
  // A showtime that does not exist: an error, not a stream.
  expectError(await call('GET', '/api/v1/showtimes/01900000-0000-7000-8000-000000000000/events'), 404, 'SHOWTIME_NOT_FOUND');
});

// ---- the page --------------------------------------------------------------------
// Only when the runner found the page's files (examples/server/www).
if (env.HTTP_TEST_WWW) test('the page and its files', async () => {
  for (const [p, type] of [['/', 'text/html'], ['/app.js', 'javascript'], ['/style.css', 'text/css']]) {
    const r = await call('GET', p);
    assert.equal(r.status, 200, p);
    assert.ok(r.headers.get('content-type').includes(type), `${p}: ${r.headers.get('content-type')}`);
    assert.ok(r.text.length > 0);
  }
});

test('metrics: the library\'s and the HTTP layer\'s', async () => {
  const r = await call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.text, /booking_http_requests_total\{[^}]*route="[^"]+"[^}]*\} \d+/);
  assert.match(r.text, /booking_http_request_duration_seconds_bucket\{/);
  assert.match(r.text, /status="409"/);
  assert.match(r.text, /^booking_/m);
});

// ---- §10.3: payment after the hold expired ------------------------------------------
async function moveClock(spec) {
  writeFileSync(env.HTTP_TEST_CLOCK_FILE, spec + '\n');
}

test('§10.3 payment after the hold expired → 410 RESERVATION_EXPIRED', async () => {
  const c = F.alice.token;
  const h = await hold(c, F.showtime.id, ['H5', 'H6']);
  assert.equal(h.status, 201);
  assert.ok(existsSync(env.HTTP_TEST_CLOCK_FILE), 'the clock file');
  await moveClock(`+${EXPIRY_MINUTES + 1}m`);
  // The expiry sweep (every second) marks it EXPIRED once the server's clock
  // (libfaketime: read within 1 s; PostgreSQL's: sampled every 5 s) has moved.
  let status = h.json.status;
  for (let i = 0; i < 60 && status !== 'EXPIRED'; i++) {
    await sleep(500);
    status = (await call('GET', `/api/v1/bookings/${h.json.id}`, { token: c })).json.status;
  }
  assert.equal(status, 'EXPIRED', 'the sweep expired the hold once the clock moved');
  const p = await call('POST', '/api/v1/payments', { token: c, body: { booking_id: h.json.id, card_number: CARD_OK }, headers: { 'Idempotency-Key': uniq('late') } });
  expectError(p, 410, 'RESERVATION_EXPIRED');
  // Once swept, the hold is an EXPIRED reservation: extending it is a state error.
  expectError(await call('POST', `/api/v1/bookings/${h.json.id}/extend`, { token: c, body: {} }), 409, 'INVALID_STATE');
  const m = await call('GET', `/api/v1/showtimes/${F.showtime.id}/seats`);
  assert.equal(m.json.seats.find((s) => s.label === 'H5').status, 'free');
  // A hold not yet swept, paid too late, is refused the same way: expiry is
  // decided by the clock, not by the sweep.
});

// ---- §10.3: the store goes down -----------------------------------------------------
// PostgreSQL only: a SQLite file cannot be taken away from a running process.
if (env.HTTP_TEST_STOP_STORE) test('§10.3 store down: 503 SERVICE_UNAVAILABLE, fast once the breaker is open', async () => {
  const c = F.alice.token;
  const r0 = spawnSync('sh', ['-c', env.HTTP_TEST_STOP_STORE], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r0.status, 0, `stopping the store: ${r0.stderr}`);
  F.storeStopped = true;
  const answers = [];
  for (let i = 0; i < 12; i++) {
    const t0 = Date.now();
    const r = await call('GET', '/api/v1/bookings', { token: c });
    answers.push({ status: r.status, code: r.json?.error?.code, ms: Date.now() - t0 });
  }
  const info = JSON.stringify(answers);
  assert.ok(answers.every((a) => a.status === 503 && a.code === 'SERVICE_UNAVAILABLE'), info);
  const last = answers.slice(-5);
  assert.ok(last.every((a) => a.ms < 1000), `fail fast once open: ${info}`);
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.json.status, 'unavailable');
  assert.equal(ready.json.dependencies.store.state, 'OPEN');
  const h = await hold(c, F.showtime.id, ['B1']);
  expectError(h, 503, 'SERVICE_UNAVAILABLE');
  assert.equal((await call('GET', '/health')).status, 200, 'alive all the same');
});
