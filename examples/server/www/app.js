// The seat picker of booking-server: one page, plain JavaScript, no build step.
// Every text that comes from the API goes into the page through textContent
// (or an attribute), never through innerHTML, and is cut to a bounded length.
// SPDX-License-Identifier: MIT

const API = '/api/v1';
const STATUSES = new Set(['free', 'held', 'sold', 'blocked']);
const MAX_TEXT = 200;       // longest API text shown (titles, messages)
const MAX_COLUMNS = 1000;   // the widest row drawn
const LABEL = /^[A-Za-z0-9-]{1,15}$/;  // a seat label, as the library makes them
const FLASH_MS = 2500;

const $ = (id) => document.getElementById(id);

const state = {
	token: sessionStorage.getItem('booking.token'),
	user: readStored('booking.user'),
	movies: new Map(),     // id -> title
	showtimes: [],
	showtimeId: null,
	map: null,             // the seat map last drawn
	etag: null,
	layoutKey: '',         // the labels drawn, in order: a new layout redraws
	buttons: new Map(),    // label -> the seat's button
	selected: new Set(),   // labels
	flash: new Set(),      // labels flashing (a seat someone else took)
	focusLabel: null,      // the one seat in the tab order
	booking: null,         // the hold being paid for
	timer: 0,
	warned: false,
	events: null,
	loading: null,         // the seat map request in flight
	reload: false,         // another one wanted after it
	busy: false,
};

function readStored(key) {
	try {
		return JSON.parse(sessionStorage.getItem(key) || 'null');
	} catch {
		return null;
	}
}

// API text is untrusted: always a string, of bounded length.
function clip(value, max = MAX_TEXT) {
	const s = typeof value === 'string' ? value : value == null ? '' : String(value);
	return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

// An idempotency key per attempt (RFC 4122 version 4; crypto.randomUUID
// needs a secure context, getRandomValues does not).
function newKey() {
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

class ApiError extends Error {
	constructor(status, code, message, details) {
		super(message);
		this.status = status;
		this.code = code;
		this.details = details && typeof details === 'object' ? details : {};
	}
}

// One request. Resolves {status, body, etag}; a 304 has body null. An error
// answer rejects with an ApiError carrying the library's code and message.
// A request with an idempotency key is sent once more, with the same key,
// when the network fails: the server answers the first attempt's result.
async function api(method, path, { body, key, ifNoneMatch } = {}) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (state.token) headers.Authorization = `Bearer ${state.token}`;
	if (key) headers['Idempotency-Key'] = key;
	if (ifNoneMatch) headers['If-None-Match'] = ifNoneMatch;
	const init = { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) };
	let res;
	for (let attempt = 0; !res; attempt++) {
		try {
			res = await fetch(API + path, init);
		} catch {
			if (!key || attempt > 0) throw new ApiError(0, 'NETWORK_ERROR', 'The server cannot be reached. Try again.');
		}
	}
	if (res.status === 304) return { status: 304, body: null, etag: ifNoneMatch };
	let data = null;
	try {
		data = await res.json();
	} catch {
		data = null;
	}
	if (!res.ok) {
		const e = data && typeof data.error === 'object' && data.error ? data.error : {};
		const message = typeof e.message === 'string' && e.message ? e.message : `The server answered ${res.status}.`;
		throw new ApiError(res.status, clip(e.code || `HTTP_${res.status}`, 64), clip(message), e.details);
	}
	return { status: res.status, body: data, etag: res.headers.get('ETag') };
}

// {"booking":{...}} or the record itself.
function unwrap(body, name) {
	return body && typeof body[name] === 'object' && body[name] !== null ? body[name] : body || {};
}

// ---- money and time ----

const digitsCache = new Map();
function currencyDigits(currency) {
	if (!digitsCache.has(currency)) {
		let d = 2;
		try {
			d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
		} catch {
			d = 2;
		}
		digitsCache.set(currency, d);
	}
	return digitsCache.get(currency);
}

// 1850, "EUR" -> "18.50 EUR"
function money(minor, currency) {
	const cur = clip(currency, 8);
	const n = Number.isSafeInteger(minor) ? minor : 0;
	const d = currencyDigits(cur);
	const sign = n < 0 ? '-' : '';
	const abs = Math.abs(n);
	const unit = 10 ** d;
	const whole = Math.floor(abs / unit);
	const frac = d ? '.' + String(abs % unit).padStart(d, '0') : '';
	return `${sign}${whole}${frac} ${cur}`;
}

function when(iso) {
	const t = Date.parse(iso);
	if (Number.isNaN(t)) return clip(iso, 40);
	return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// ---- messages ----

function announce(text) {
	// The same text twice in a row is announced again.
	const live = $('announce');
	live.textContent = '';
	requestAnimationFrame(() => {
		live.textContent = text;
	});
}

function showError(text) {
	const el = $('error');
	el.textContent = text;
	el.hidden = !text;
	if (text) announce(text);
}

// The library's message, and what the page does about the error.
function failed(err, seats = []) {
	if (!(err instanceof ApiError)) {
		showError('Something went wrong in the page. Reload it.');
		console.error(err);
		return;
	}
	showError(err.message);
	if (err.status === 401 && state.token) {
		signedOut();
		$('email').focus();
	}
	if (err.code === 'SEAT_ALREADY_BOOKED' || err.code === 'ORPHAN_SEAT') {
		const named = Array.isArray(err.details.seats) ? err.details.seats
			: typeof err.details.seat === 'string' ? [err.details.seat] : seats;
		flash(named.filter((s) => typeof s === 'string').map((s) => clip(s, 16)));
	}
	if (err.status === 409 || err.status === 410 || err.code === 'SEAT_ALREADY_BOOKED') refreshMap();
}

function flash(labels) {
	for (const label of labels) {
		state.flash.add(label);
		state.selected.delete(label);
	}
	drawSeats();
	drawSelection();
	setTimeout(() => {
		for (const label of labels) state.flash.delete(label);
		drawSeats();
	}, FLASH_MS);
}

// ---- account ----

function signedIn(token, user) {
	state.token = token;
	state.user = { id: clip(user.id, 64), email: clip(user.email, 254), role: clip(user.role, 16) };
	sessionStorage.setItem('booking.token', token);
	sessionStorage.setItem('booking.user', JSON.stringify(state.user));
	drawAccount();
}

function signedOut() {
	state.token = null;
	state.user = null;
	sessionStorage.removeItem('booking.token');
	sessionStorage.removeItem('booking.user');
	drawAccount();
}

function drawAccount() {
	const inside = Boolean(state.token && state.user);
	$('login-form').hidden = inside;
	$('who').hidden = !inside;
	$('who-email').textContent = inside ? `Signed in as ${state.user.email}` : '';
	drawSelection();
}

function credentials() {
	return { email: $('email').value.trim(), password: $('password').value };
}

async function login(creds) {
	const r = await api('POST', '/auth/login', { body: creds });
	const body = r.body || {};
	if (typeof body.access_token !== 'string') throw new ApiError(r.status, 'BAD_RESPONSE', 'The server sent no token.');
	signedIn(body.access_token, unwrap(body, 'user'));
	$('password').value = '';
	showError('');
	announce(`Signed in as ${state.user.email}.`);
	await resumeHold();
}

// A hold of this buyer's that is still running (after a reload, or a login
// on another tab) comes back with its countdown.
async function resumeHold() {
	if (!state.token || state.booking) return;
	let r;
	try {
		r = await api('GET', '/bookings?limit=20');
	} catch {
		return; // nothing to resume is not an error of the page
	}
	const now = Date.now();
	const open = (r.body?.items ?? []).find((b) => b && String(b.status).toUpperCase() === 'PENDING' &&
		Date.parse(b.expires_at) > now);
	if (!open) return;
	if (open.showtime_id !== state.showtimeId && state.showtimes.some((s) => s.id === open.showtime_id)) {
		$('showtime').value = open.showtime_id;
		openShowtime(open.showtime_id);
	}
	holding(open);
}

async function onLogin(ev) {
	ev.preventDefault();
	if (!$('login-form').reportValidity()) return;
	await busy(() => login(credentials()));
}

async function onRegister() {
	if (!$('login-form').reportValidity()) return;
	const creds = credentials();
	await busy(async () => {
		await api('POST', '/auth/register', { body: creds });
		await login(creds);
	});
}

async function onLogout() {
	await busy(async () => {
		try {
			await api('POST', '/auth/logout');
		} catch (err) {
			if (!(err instanceof ApiError) || err.status !== 401) throw err;
		}
		signedOut();
		announce('Signed out.');
	});
}

// ---- showtimes ----

async function loadShowtimes() {
	const [movies, showtimes] = await Promise.all([api('GET', '/movies'), api('GET', '/showtimes')]);
	for (const m of movies.body?.items ?? []) state.movies.set(m.id, clip(m.title));
	state.showtimes = (showtimes.body?.items ?? []).filter((s) => typeof s.id === 'string');
	const select = $('showtime');
	select.replaceChildren();
	if (!state.showtimes.length) {
		select.append(new Option('No showtimes yet', ''));
		return;
	}
	for (const s of state.showtimes) {
		const title = state.movies.get(s.movie_id) || 'Untitled';
		const cancelled = String(s.status).toUpperCase() === 'CANCELLED';
		const opt = new Option(`${title} — ${when(s.starts_at)}${cancelled ? ' (cancelled)' : ''}`, s.id);
		opt.disabled = cancelled;
		select.append(opt);
	}
	select.disabled = false;
	const wanted = new URLSearchParams(location.hash.slice(1)).get('showtime');
	const first = state.showtimes.find((s) => s.id === wanted) ||
		state.showtimes.find((s) => String(s.status).toUpperCase() !== 'CANCELLED') || state.showtimes[0];
	select.value = first.id;
	openShowtime(first.id);
}

function openShowtime(id) {
	if (state.showtimeId === id) return;
	state.showtimeId = id;
	state.map = null;
	state.etag = null;
	state.layoutKey = '';
	state.selected.clear();
	state.focusLabel = null;
	history.replaceState(null, '', `#showtime=${encodeURIComponent(id)}`);
	$('seats').replaceChildren();
	state.buttons.clear();
	drawSelection();
	listen(id);
	refreshMap();
}

// ---- the seat map ----

// A seat of the API, checked: anything odd is not offered for sale.
function seatOf(raw) {
	const label = raw.label;
	const number = Number.isSafeInteger(raw.number) && raw.number > 0 ? raw.number : 0;
	const column = Number.isSafeInteger(raw.column) && raw.column > 0 && raw.column <= MAX_COLUMNS ? raw.column : null;
	const status = STATUSES.has(raw.status) ? raw.status : 'blocked';
	return {
		label,
		row: clip(raw.row ?? '', 16),
		number,
		column,
		category: clip(raw.category ?? '', 32),
		price: Number.isSafeInteger(raw.price) ? raw.price : 0,
		status,
		reason: raw.reason == null ? '' : clip(raw.reason, 80),
	};
}

function takeMap(raw, etag) {
	if (!raw || !Array.isArray(raw.seats) || raw.showtime_id !== state.showtimeId) return false;
	const seats = raw.seats.filter((s) => s && typeof s.label === 'string' && LABEL.test(s.label)).map(seatOf);
	// A seat without a usable column goes right after the one before it in its row.
	for (let i = 0; i < seats.length; i++) {
		if (seats[i].column !== null) continue;
		const prev = seats[i - 1];
		seats[i].column = prev && prev.row === seats[i].row ? Math.min(prev.column + 1, MAX_COLUMNS) : 1;
	}
	state.map = { currency: clip(raw.currency, 8), seats };
	state.etag = etag;
	for (const s of seats) if (s.status !== 'free') state.selected.delete(s.label);
	drawSeats();
	drawSelection();
	return true;
}

// Fetch the map (If-None-Match: the unchanged map costs a 304). One request
// at a time; a wish for another during it makes one more after it.
async function refreshMap() {
	if (state.loading) {
		state.reload = true;
		return state.loading;
	}
	const id = state.showtimeId;
	if (!id) return undefined;
	state.loading = (async () => {
		try {
			do {
				state.reload = false;
				const r = await api('GET', `/showtimes/${encodeURIComponent(id)}/seats`, { ifNoneMatch: state.etag });
				if (id !== state.showtimeId) break;
				if (r.status !== 304) takeMap(unwrap(r.body, 'seat_map'), r.etag);
			} while (state.reload);
		} catch (err) {
			failed(err);
		} finally {
			state.loading = null;
		}
	})();
	return state.loading;
}

// The server's live events: a seat map, or a note of which seats changed
// (then the map is fetched again). EventSource reconnects by itself.
function listen(id) {
	if (state.events) state.events.close();
	state.events = null;
	if (!('EventSource' in window)) return;
	const es = new EventSource(`${API}/showtimes/${encodeURIComponent(id)}/events`);
	es.addEventListener('seats', (ev) => {
		if (id !== state.showtimeId) return;
		let msg = null;
		try {
			msg = JSON.parse(ev.data);
		} catch {
			msg = null;
		}
		const isMap = msg && Array.isArray(msg.seats) && msg.seats.length > 0 && typeof msg.seats[0] === 'object';
		if (!isMap || !takeMap(msg, null)) refreshMap();
	});
	state.events = es;
}

function statusWord(seat) {
	if (seat.status === 'held' && isMine(seat.label)) return 'held by you';
	if (seat.status === 'blocked' && seat.reason) return `blocked (${seat.reason})`;
	return seat.status;
}

function isMine(label) {
	const b = state.booking;
	return Boolean(b && b.showtimeId === state.showtimeId && b.seats.includes(label));
}

function seatName(seat) {
	return seat.number && seat.row ? `Row ${seat.row} seat ${seat.number}` : `Seat ${seat.label}`;
}

function seatLabel(seat) {
	return `${seatName(seat)}, ${seat.category}, ${money(seat.price, state.map.currency)}, ${statusWord(seat)}`;
}

// Rows are the runs of seats with the same row, in layout order (the
// screen is at the top); a seat sits at its column, so aisles are gaps.
function rowsOf(seats) {
	const rows = [];
	for (const s of seats) {
		const last = rows[rows.length - 1];
		if (last && last.row === s.row) last.seats.push(s);
		else rows.push({ row: s.row, seats: [s] });
	}
	for (const r of rows) r.seats.sort((a, b) => a.column - b.column);
	return rows;
}

function categoryIndex() {
	const idx = new Map();
	for (const s of state.map.seats) if (!idx.has(s.category)) idx.set(s.category, idx.size);
	return idx;
}

function drawSeats() {
	const grid = $('seats');
	if (!state.map) return;
	const seats = state.map.seats;
	const key = seats.map((s) => `${s.row}/${s.label}/${s.column}`).join(',');
	if (key !== state.layoutKey) buildGrid(grid, seats, key);
	const cats = categoryIndex();
	if (!state.buttons.has(state.focusLabel)) {
		state.focusLabel = (seats.find((s) => s.status === 'free') || seats[0] || {}).label || null;
	}
	for (const seat of seats) {
		const b = state.buttons.get(seat.label);
		if (!b) continue;
		for (const st of STATUSES) b.classList.toggle(st, st === seat.status);
		b.classList.toggle('selected', state.selected.has(seat.label));
		b.classList.toggle('mine', seat.status === 'held' && isMine(seat.label));
		b.classList.toggle('flash', state.flash.has(seat.label));
		b.dataset.cat = String(Math.min(cats.get(seat.category), 5));
		b.dataset.status = seat.status;
		b.setAttribute('aria-label', seatLabel(seat));
		b.title = seatLabel(seat);
		b.setAttribute('aria-pressed', String(state.selected.has(seat.label)));
		b.setAttribute('aria-disabled', String(seat.status !== 'free'));
		b.tabIndex = seat.label === state.focusLabel ? 0 : -1;
	}
	drawPrices(cats);
	const m = state.map;
	const count = (st) => m.seats.filter((s) => s.status === st).length;
	$('counts').textContent = `${count('free')} free, ${count('held')} held, ${count('sold')} sold, ` +
		`${count('blocked')} blocked of ${m.seats.length} seats`;
}

function buildGrid(grid, seats, key) {
	const rows = rowsOf(seats);
	const cols = Math.max(1, ...seats.map((s) => s.column));
	grid.closest('.hall').style.setProperty('--cols', String(cols));
	const focused = document.activeElement?.dataset?.label;
	grid.replaceChildren();
	state.buttons.clear();
	for (const r of rows) {
		const row = document.createElement('div');
		row.className = 'row';
		row.setAttribute('role', 'group');
		row.setAttribute('aria-label', r.row ? `Row ${r.row}` : 'Row');
		for (const side of ['start', 'end']) {
			const name = document.createElement('span');
			name.className = `row-name ${side}`;
			name.setAttribute('aria-hidden', 'true');
			name.textContent = r.row;
			name.style.gridColumn = side === 'start' ? '1' : String(cols + 2);
			row.append(name);
		}
		for (const s of r.seats) {
			const b = document.createElement('button');
			b.type = 'button';
			b.className = 'seat';
			b.dataset.label = s.label;
			b.dataset.row = String(rows.indexOf(r));
			b.dataset.column = String(s.column);
			b.style.gridColumn = String(s.column + 1);
			row.append(b);
			state.buttons.set(s.label, b);
		}
		grid.append(row);
	}
	state.layoutKey = key;
	state.buttons.get(focused)?.focus();
}

function drawPrices(cats) {
	const list = $('prices');
	list.replaceChildren();
	for (const [category, i] of cats) {
		const seat = state.map.seats.find((s) => s.category === category);
		const li = document.createElement('li');
		const swatch = document.createElement('span');
		swatch.className = 'swatch';
		swatch.dataset.cat = String(Math.min(i, 5));
		swatch.setAttribute('aria-hidden', 'true');
		li.append(swatch, `${category} ${money(seat.price, state.map.currency)}`);
		list.append(li);
	}
}

function onSeatClick(ev) {
	const b = ev.target.closest('button.seat');
	if (!b || !state.map) return;
	const seat = state.map.seats.find((s) => s.label === b.dataset.label);
	if (!seat) return;
	moveFocus(b, false);
	if (state.booking) {
		announce('Pay for or cancel your hold before picking other seats.');
		return;
	}
	if (seat.status !== 'free') {
		announce(`${seatName(seat)} is ${statusWord(seat)}.`);
		return;
	}
	if (state.selected.has(seat.label)) state.selected.delete(seat.label);
	else state.selected.add(seat.label);
	drawSeats();
	drawSelection();
	announce(`${seatName(seat)} ${state.selected.has(seat.label) ? 'selected' : 'no longer selected'}. ${selectionText()}`);
}

function moveFocus(b, focus = true) {
	state.focusLabel = b.dataset.label;
	for (const other of state.buttons.values()) other.tabIndex = other === b ? 0 : -1;
	if (focus) b.focus();
}

// Arrow keys move between seats: along the row, or to the nearest column
// of the row above or below; Home and End go to the row's ends.
function onSeatKey(ev) {
	const b = ev.target.closest('button.seat');
	if (!b) return;
	const row = b.closest('.row');
	const inRow = [...row.querySelectorAll('button.seat')];
	const i = inRow.indexOf(b);
	let target = null;
	switch (ev.key) {
	case 'ArrowLeft': target = inRow[i - 1]; break;
	case 'ArrowRight': target = inRow[i + 1]; break;
	case 'Home': target = inRow[0]; break;
	case 'End': target = inRow[inRow.length - 1]; break;
	case 'ArrowUp':
	case 'ArrowDown': {
		const other = ev.key === 'ArrowUp' ? row.previousElementSibling : row.nextElementSibling;
		if (!other) break;
		const col = Number(b.dataset.column);
		let best = Infinity;
		for (const c of other.querySelectorAll('button.seat')) {
			const d = Math.abs(Number(c.dataset.column) - col);
			if (d < best) {
				best = d;
				target = c;
			}
		}
		break;
	}
	default: return;
	}
	ev.preventDefault();
	if (target) moveFocus(target);
}

// ---- the order ----

function selectedSeats() {
	if (!state.map) return [];
	return state.map.seats.filter((s) => state.selected.has(s.label));
}

function selectionText() {
	const seats = selectedSeats();
	if (!seats.length) return 'No seats selected.';
	const total = seats.reduce((n, s) => n + s.price, 0);
	return `Selected: ${seats.map((s) => s.label).join(', ')} — ${money(total, state.map.currency)}`;
}

function drawSelection() {
	$('selection').textContent = state.booking ? '' : selectionText();
	const hold = $('hold');
	hold.hidden = Boolean(state.booking);
	hold.disabled = state.busy || !state.selected.size;
	hold.textContent = state.token ? 'Hold seats' : 'Log in to hold seats';
}

async function onHold() {
	if (!state.token) {
		showError('Log in or register to hold seats.');
		$('email').focus();
		return;
	}
	const labels = selectedSeats().map((s) => s.label);
	if (!labels.length) return;
	const showtimeId = state.showtimeId;
	await busy(async () => {
		try {
			const r = await api('POST', '/bookings', { body: { showtime_id: showtimeId, seat_ids: labels }, key: newKey() });
			state.selected.clear();
			holding(unwrap(r.body, 'booking'));
			showError('');
			const b = state.booking;
			announce(`Held ${b.seats.join(', ')} for ${money(b.total, b.currency)}. Pay before ${when(b.expiresAt)}.`);
		} catch (err) {
			failed(err, labels);
		}
		refreshMap();
	}, false);
}

function holding(raw) {
	const seats = Array.isArray(raw.seats) ? raw.seats.map((s) => clip(typeof s === 'string' ? s : s?.label, 16)) : [];
	state.booking = {
		id: clip(raw.id, 64),
		showtimeId: raw.showtime_id,
		seats,
		total: Number.isSafeInteger(raw.total_amount) ? raw.total_amount : 0,
		currency: clip(raw.currency, 8),
		expiresAt: raw.expires_at,
	};
	state.warned = false;
	$('held-text').textContent = `Held ${seats.join(', ')} for ${money(state.booking.total, state.booking.currency)}.`;
	$('held').hidden = false;
	$('confirmation').hidden = true;
	clearInterval(state.timer);
	state.timer = setInterval(tick, 1000);
	tick();
	drawSeats();
	drawSelection();
}

function tick() {
	const b = state.booking;
	if (!b) return;
	const left = Math.floor((Date.parse(b.expiresAt) - Date.now()) / 1000);
	if (Number.isNaN(left)) {
		$('countdown').textContent = '';
		return;
	}
	if (left <= 0) {
		done();
		showError('Your hold has expired: the seats are free again.');
		refreshMap();
		return;
	}
	const mm = Math.floor(left / 60);
	const ss = String(left % 60).padStart(2, '0');
	$('countdown').textContent = `Expires in ${mm}:${ss}`;
	if (left <= 60 && !state.warned) {
		state.warned = true;
		announce('One minute left to pay.');
	}
}

function done() {
	clearInterval(state.timer);
	state.booking = null;
	$('held').hidden = true;
	$('countdown').textContent = '';
	drawSeats();
	drawSelection();
}

async function onPay(ev) {
	ev.preventDefault();
	const b = state.booking;
	if (!b) return;
	const card = $('card').value.replace(/[\s-]/g, '');
	if (!/^\d{12,19}$/.test(card)) {
		showError('Enter the card number: 12 to 19 digits.');
		$('card').focus();
		return;
	}
	await busy(async () => {
		try {
			const r = await api('POST', '/payments', { body: { booking_id: b.id, card_number: card }, key: newKey() });
			let p = unwrap(r.body, 'payment');
			for (let i = 0; i < 10 && String(p.status).toUpperCase() === 'PROCESSING'; i++) {
				await new Promise((ok) => setTimeout(ok, 1000));
				p = unwrap((await api('GET', `/payments/${encodeURIComponent(p.id)}`)).body, 'payment');
			}
			if (String(p.status).toUpperCase() !== 'SUCCEEDED') {
				showError(`The payment is ${clip(String(p.status).toLowerCase(), 20)}. Check your bookings later.`);
				return;
			}
			confirmed(b, p);
		} catch (err) {
			failed(err);
			if (err instanceof ApiError && (err.code === 'RESERVATION_EXPIRED' || err.code === 'INVALID_STATE')) done();
		}
		refreshMap();
	}, false);
}

function confirmed(b, p) {
	done();
	showError('');
	const last4 = /^\d{4}$/.test(p.card_last4) ? ` with the card ending ${p.card_last4}` : '';
	const text = `${b.seats.length === 1 ? 'Seat' : 'Seats'} ${b.seats.join(', ')} ${b.seats.length === 1 ? 'is' : 'are'} yours: paid ${money(p.amount ?? b.total, p.currency || b.currency)}` +
		`${last4}. Booking ${b.id}.`;
	$('confirmation-text').textContent = text;
	$('confirmation').hidden = false;
	$('confirmation').focus();
	announce(`Booked. ${text}`);
}

async function onCancel() {
	const b = state.booking;
	if (!b) return;
	await busy(async () => {
		try {
			await api('POST', `/bookings/${encodeURIComponent(b.id)}/cancel`);
			done();
			showError('');
			announce(`Hold of ${b.seats.join(', ')} cancelled.`);
		} catch (err) {
			failed(err);
		}
		refreshMap();
	}, false);
}

// Run an action with the buttons disabled; errors it throws are shown.
async function busy(action, report = true) {
	state.busy = true;
	for (const id of ['login', 'register', 'logout', 'pay', 'cancel']) $(id).disabled = true;
	drawSelection();
	try {
		await action();
	} catch (err) {
		if (report) failed(err);
		else throw err;
	} finally {
		state.busy = false;
		for (const id of ['login', 'register', 'logout', 'pay', 'cancel']) $(id).disabled = false;
		drawSelection();
	}
}

async function start() {
	$('login-form').addEventListener('submit', onLogin);
	$('register').addEventListener('click', onRegister);
	$('logout').addEventListener('click', onLogout);
	$('showtime').addEventListener('change', (ev) => ev.target.value && openShowtime(ev.target.value));
	$('seats').addEventListener('click', onSeatClick);
	$('seats').addEventListener('keydown', onSeatKey);
	$('hold').addEventListener('click', onHold);
	$('pay-form').addEventListener('submit', onPay);
	$('cancel').addEventListener('click', onCancel);
	$('again').addEventListener('click', () => {
		$('confirmation').hidden = true;
		$('seats').querySelector('button[tabindex="0"]')?.focus();
	});
	drawAccount();
	if (state.token) {
		try {
			const r = await api('GET', '/auth/me');
			signedIn(state.token, unwrap(r.body, 'user'));
		} catch (err) {
			if (err instanceof ApiError && err.status === 401) signedOut();
		}
	}
	try {
		await loadShowtimes();
		await resumeHold();
	} catch (err) {
		failed(err);
	}
}

start();
