// The seat-picker page in a real browser: Debian's chromium, driven by
// playwright-core, against a booking-server that run-browser.sh started.
//
//   node browser.mjs BASE_URL SHOWTIME_ID SEAT ARTIFACTS_DIR
//
// Two buyers (two browser contexts) open the same showtime, pick the same
// seat and hold at once: exactly one hold succeeds; the other page shows the
// library's message and, without a reload, the seat as taken; the winner
// pays with the test card and sees the confirmation, and the loser's map
// shows the seat sold from the SSE stream alone. Then a keyboard-only buyer
// (Tab, arrow keys, Enter) and a phone-width (360 px) page. Screenshots go
// to ARTIFACTS_DIR; their paths are printed. Exit 0 when every check holds.
// SPDX-License-Identifier: MIT

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';

const [base, showtimeId, seat, artifacts] = process.argv.slice(2);
if (!base || !showtimeId || !seat || !artifacts) {
	console.error('usage: browser.mjs BASE_URL SHOWTIME_ID SEAT ARTIFACTS_DIR');
	process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const url = `${base}/#showtime=${encodeURIComponent(showtimeId)}`;
const password = 'Correct-horse-42';
const stamp = Date.now().toString(36);
const shots = [];
const pages = [];
let passed = 0;

function ok(what) {
	passed++;
	console.log(`ok ${passed} - ${what}`);
}

async function shot(page, name) {
	const file = path.join(artifacts, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	shots.push(file);
}

const seatSel = (label) => `#seats button.seat[data-label="${label}"]`;

// A page for one buyer: page errors fail the test; requests are recorded.
async function open(browser, name, options = {}) {
	const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
	const page = await context.newPage();
	pages.push(page);
	page.errors = [];
	page.requests = [];
	page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) page.errors.push(`${name}: console: ${m.text()}`);
	});
	page.on('request', (r) => page.requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
	await page.goto(url);
	await page.waitForSelector(seatSel(seat));
	// A marker that a reload would lose.
	await page.evaluate(() => {
		window.notReloaded = true;
	});
	return page;
}

async function register(page, email) {
	await page.fill('#email', email);
	await page.fill('#password', password);
	await page.click('#register');
	await page.waitForSelector('#who:not([hidden])');
	assert.match(await page.textContent('#who-email'), new RegExp(email.replace(/[.+]/g, '\\$&')));
}

// The live region says it (it is filled a frame after it is cleared).
async function announced(page, pattern) {
	try {
		await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('announce').textContent), pattern,
			{ timeout: 5000 });
	} catch {
		assert.fail(`announced /${pattern}/: "${await page.textContent('#announce')}"`);
	}
}

const seatStatus = (page, label) => page.getAttribute(seatSel(label), 'data-status');

function postTo(page, pathname) {
	return page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === pathname);
}

async function twoBuyers(browser) {
	const a = await open(browser, 'alice');
	const b = await open(browser, 'bob');
	await register(a, `alice-${stamp}@example.com`);
	await register(b, `bob-${stamp}@example.com`);
	ok('two buyers registered and logged in through the page');

	const option = await a.textContent('#showtime option:checked');
	assert.match(option, /^The Browser Test <i>&amp;<\/i> — /, `the showtime's title as text: ${option}`);
	assert.equal(await a.$$eval('i', (els) => els.length), 0, 'no markup from the API in the page');
	ok(`the showtime shows its movie's title as text: "${option}"`);

	const label = await a.getAttribute(seatSel(seat), 'aria-label');
	assert.match(label, /^Row [A-Z]+ seat \d+, [a-z]+, \d+\.\d\d [A-Z]{3}, free$/, `aria-label: ${label}`);
	ok(`the seat is a button labelled "${label}"`);
	assert.equal(await a.getAttribute(seatSel(seat), 'aria-pressed'), 'false');

	await a.click(seatSel(seat));
	await b.click(seatSel(seat));
	assert.equal(await a.getAttribute(seatSel(seat), 'aria-pressed'), 'true');
	assert.equal(await b.getAttribute(seatSel(seat), 'aria-pressed'), 'true');
	assert.match(await a.textContent('#selection'), new RegExp(`Selected: ${seat} `));
	ok('both select the same seat');

	// Both hold at once.
	const [ra, rb] = await Promise.all([postTo(a, '/api/v1/bookings'), postTo(b, '/api/v1/bookings'),
		a.click('#hold'), b.click('#hold')]);
	const statuses = [ra.status(), rb.status()].sort();
	assert.deepEqual(statuses, [201, 409], `hold statuses ${statuses}`);
	for (const r of [ra, rb]) assert.ok(r.request().headers()['idempotency-key'], 'a hold carries an Idempotency-Key');
	const [winner, loser, lost] = ra.status() === 201 ? [a, b, rb] : [b, a, ra];
	ok('exactly one hold succeeds (201), the other is refused (409); both sent an Idempotency-Key');

	const error = (await lost.json()).error;
	assert.equal(error.code, 'SEAT_ALREADY_BOOKED');
	await loser.waitForSelector('#error:not([hidden])');
	assert.equal((await loser.textContent('#error')).trim(), error.message);
	await announced(loser, `^${error.message.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`);
	assert.match(await loser.getAttribute(seatSel(seat), 'class'), /\bflash\b/);
	ok(`the loser sees the library's message "${error.message}" (shown and announced) and the seat flashes`);

	await loser.waitForFunction((sel) => document.querySelector(sel)?.dataset.status === 'held', seatSel(seat));
	assert.ok(await loser.evaluate(() => window.notReloaded), 'the loser page was not reloaded');
	assert.equal(await loser.getAttribute(seatSel(seat), 'aria-pressed'), 'false');
	assert.match(await loser.getAttribute(seatSel(seat), 'aria-label'), /, held$/);
	await shot(loser, 'loser-seat-taken');
	ok('the loser\'s map shows the seat held without a reload');

	await winner.waitForSelector('#held:not([hidden])');
	assert.match(await winner.textContent('#countdown'), /^Expires in \d+:\d\d$/);
	await announced(winner, `^Held ${seat} for `);
	assert.match(await winner.getAttribute(seatSel(seat), 'aria-label'), /, held by you$/);
	await shot(winner, 'winner-held');
	ok('the winner sees the hold and its countdown');

	await winner.reload();
	await winner.waitForSelector('#held:not([hidden])');
	assert.match(await winner.textContent('#held-text'), new RegExp(`^Held ${seat} for `));
	assert.match(await winner.textContent('#countdown'), /^Expires in \d+:\d\d$/);
	await winner.waitForFunction((sel) => document.querySelector(sel)?.classList.contains('mine'), seatSel(seat));
	ok('after a reload the winner\'s hold comes back with its countdown');

	// The loser does nothing from here on: what changes its map is the stream.
	assert.ok(loser.requests.some((r) => r.startsWith('GET /api/v1/showtimes/') && r.endsWith('/events')),
		'the loser page listens to the SSE stream');
	const loserRequests = loser.requests.length;

	assert.equal(await winner.inputValue('#card'), '4242 4242 4242 4242');
	const [rp] = await Promise.all([postTo(winner, '/api/v1/payments'), winner.click('#pay')]);
	assert.equal(rp.status(), 201);
	assert.ok(rp.request().headers()['idempotency-key'], 'a payment carries an Idempotency-Key');
	await winner.waitForSelector('#confirmation:not([hidden])');
	const confirmation = await winner.textContent('#confirmation-text');
	assert.match(confirmation, new RegExp(`^Seat ${seat} is yours: paid \\d+\\.\\d\\d [A-Z]{3} with the card ending 4242\\.`));
	assert.equal(await winner.evaluate(() => document.activeElement.id), 'confirmation');
	await winner.waitForFunction((sel) => document.querySelector(sel)?.dataset.status === 'sold', seatSel(seat));
	await shot(winner, 'winner-confirmed');
	ok(`the winner pays with the test card (201, Idempotency-Key) and sees "${confirmation}"`);

	await loser.waitForFunction((sel) => document.querySelector(sel)?.dataset.status === 'sold', seatSel(seat),
		{ timeout: 5000 });
	assert.ok(await loser.evaluate(() => window.notReloaded), 'the loser page was not reloaded');
	const later = loser.requests.slice(loserRequests);
	assert.ok(later.every((r) => r.startsWith('GET /api/v1/showtimes/')), `the loser only read the map: ${later}`);
	await shot(loser, 'loser-sees-sold');
	ok('the loser\'s map shows the seat sold, from the SSE stream, without a reload');

	// The shapes differ, not only the colours.
	const looks = await loser.evaluate(() => {
		const look = (sel) => {
			const el = document.querySelector(sel);
			const cs = getComputedStyle(el);
			const mark = getComputedStyle(el, '::after');
			return `${cs.borderStyle}|${cs.borderRadius}|${cs.backgroundImage === 'none' ? 'plain' : cs.backgroundImage}` +
				`|${mark.content === 'none' ? '' : mark.transform + mark.borderRightWidth}`;
		};
		return ['.legend .seat.free:not(.selected)', '.legend .seat.held:not(.mine)', '.legend .seat.sold', '.legend .seat.blocked',
			'.legend .seat.selected'].map(look);
	});
	assert.equal(new Set(looks).size, looks.length, `five different shapes: ${looks.join(' / ')}`);
	ok('free, selected, held, sold and blocked seats differ in shape');

}

// Tab to the map, arrows to a seat, Enter selects; the hold and the payment
// by keyboard too.
async function keyboardOnly(browser) {
	const k = await open(browser, 'keyboard');
	const focused = () => k.evaluate(() => {
		const el = document.activeElement;
		return el?.dataset?.label ? `seat:${el.dataset.label}` : el?.id || el?.tagName;
	});
	async function tabTo(want, limit = 40) {
		for (let i = 0; i < limit; i++) {
			await k.keyboard.press('Tab');
			const f = await focused();
			if (typeof want === 'function' ? want(f) : f === want) return f;
		}
		throw new Error(`Tab never reached ${want}`);
	}
	await tabTo('email');
	await k.keyboard.type(`kay-${stamp}@example.com`);
	await k.keyboard.press('Tab');
	await k.keyboard.type(password);
	await tabTo('register');
	await k.keyboard.press('Enter');
	await k.waitForSelector('#who:not([hidden])');
	ok('keyboard: registered with Tab and Enter');

	const first = await tabTo((f) => f.startsWith('seat:'));
	const one = first.slice(5);
	const tabbable = await k.$$eval('#seats button.seat[tabindex="0"]', (els) => els.length);
	assert.equal(tabbable, 1, 'one seat in the tab order');
	await k.keyboard.press('ArrowRight');
	const right = (await focused()).slice(5);
	assert.notEqual(right, one, 'ArrowRight moves');
	await k.keyboard.press('ArrowDown');
	const down = (await focused()).slice(5);
	assert.notEqual(down.replace(/\d+$/, ''), right.replace(/\d+$/, ''), `ArrowDown goes to the next row (${right} -> ${down})`);
	await k.keyboard.press('ArrowUp');
	assert.equal((await focused()).slice(5), right, 'ArrowUp comes back');
	await k.keyboard.press('ArrowDown');
	ok(`keyboard: Tab to ${one}, ArrowRight to ${right}, ArrowDown to ${down}`);

	assert.equal(await seatStatus(k, down), 'free');
	await k.keyboard.press('Enter');
	assert.equal(await k.getAttribute(seatSel(down), 'aria-pressed'), 'true');
	await k.keyboard.press('Space');
	assert.equal(await k.getAttribute(seatSel(down), 'aria-pressed'), 'false');
	await k.keyboard.press('Enter');
	assert.equal(await k.getAttribute(seatSel(down), 'aria-pressed'), 'true');
	await announced(k, `seat \\d+ selected\\. Selected: ${down} `);
	assert.equal(await focused(), `seat:${down}`, 'the focus stays on the seat');
	await shot(k, 'keyboard-seat-selected');
	ok(`keyboard: Enter selects ${down}, Space unselects, the choice is announced`);

	await tabTo('hold');
	const [rh] = await Promise.all([postTo(k, '/api/v1/bookings'), k.keyboard.press('Enter')]);
	assert.equal(rh.status(), 201);
	await k.waitForSelector('#held:not([hidden])');
	await tabTo('card');
	const [rp] = await Promise.all([postTo(k, '/api/v1/payments'), k.keyboard.press('Enter')]);
	assert.equal(rp.status(), 201);
	await k.waitForSelector('#confirmation:not([hidden])');
	assert.equal(await focused(), 'confirmation');
	await shot(k, 'keyboard-confirmed');
	ok(`keyboard: held and paid ${down} with Enter alone`);
}

async function phone(browser) {
	const p = await open(browser, 'phone', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
		deviceScaleFactor: 2 });
	const widths = await p.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
	assert.ok(widths.page <= widths.view, `no sideways scrolling at 360 px: ${widths.page} > ${widths.view}`);
	const box = await p.locator(seatSel(seat)).boundingBox();
	assert.ok(box && box.width >= 14 && box.x >= 0 && box.x + box.width <= 360, `the seat is on screen: ${JSON.stringify(box)}`);
	await p.tap(seatSel(seat === 'A1' ? 'A2' : 'A1'));
	await shot(p, 'phone-360');
	ok('phone width (360 px): the page fits, seats are on screen and take a tap');
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
let code = 0;
try {
	await twoBuyers(browser);
	await keyboardOnly(browser);
	await phone(browser);
	const errors = pages.flatMap((p) => p.errors);
	assert.deepEqual(errors, [], 'no script errors in the pages');
	ok('no script errors in any page');
} catch (err) {
	code = 1;
	console.error(`not ok - ${err.stack || err}`);
	for (const [i, p] of pages.entries()) console.error(`page ${i} requests: ${p.requests.join(', ')}`);
} finally {
	await browser.close();
}
for (const file of shots) console.log(`screenshot: ${file}`);
console.log(`${passed} passed, ${code} failed`);
process.exit(code);
