// Interoperability of libbooking's tokens and keys with the `jose` library
// (https://github.com/panva/jose), both ways:
//   1. a token libbooking issues verifies with jose's jwtVerify and the
//      public JWK (set) libbooking wrote;
//   2. a token jose signs with an Ed25519 key it generated verifies in
//      libbooking, given jose's public JWK;
//   3. jose signs with libbooking's private JWK file; libbooking verifies;
// and the refusals agree (tampered token, wrong audience, HS256).
//
// usage: node interop.mjs PATH_TO_JWT_TOOL WORK_DIR
// SPDX-License-Identifier: MIT
import { execFileSync } from 'node:child_process';
import { randomUUID, createSecretKey } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';

const [tool, work] = process.argv.slice(2);
if (!tool || !work) {
	console.error('usage: node interop.mjs PATH_TO_JWT_TOOL WORK_DIR');
	process.exit(2);
}
mkdirSync(work, { recursive: true });
const ISSUER = 'https://auth.interop.test';
const AUDIENCE = 'booking-interop';
let failures = 0;

function check(ok, what) {
	console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
	if (!ok) failures++;
}

function libbookingVerify(jwksPath, token, audience = AUDIENCE) {
	try {
		const out = execFileSync(tool, ['verify', jwksPath, token, ISSUER, audience], { encoding: 'utf8' });
		return JSON.parse(out);
	} catch (e) {
		if (e.status === 1) return JSON.parse(e.stdout);
		throw e;
	}
}

console.log(`jose ${JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url))).version}, node ${process.version}`);

// 1. libbooking issues, jose verifies.
const issued = JSON.parse(execFileSync(tool, ['issue', work, ISSUER, AUDIENCE], { encoding: 'utf8' }));
const jwks = JSON.parse(readFileSync(join(work, 'public.jwks'), 'utf8'));
{
	const { payload, protectedHeader } = await jose.jwtVerify(issued.token, jose.createLocalJWKSet(jwks), {
		issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'],
	});
	check(protectedHeader.alg === 'EdDSA' && protectedHeader.kid === issued.kid && protectedHeader.typ === 'JWT',
		`jose reads libbooking's header: ${JSON.stringify(protectedHeader)}`);
	check(payload.sub === issued.sub && payload.role === 'customer' && typeof payload.jti === 'string' &&
		payload.exp - payload.iat === 900 && payload.nbf === payload.iat,
		`jose verified libbooking's token: claims ${Object.keys(payload).sort().join(',')}`);
	// the single public JWK, imported on its own
	const key = await jose.importJWK(jwks.keys[0], 'EdDSA');
	const r = await jose.jwtVerify(issued.token, key, { issuer: ISSUER, audience: AUDIENCE });
	check(r.payload.sub === issued.sub, 'jose verified it with importJWK of the public JWK');
	// jose computes the same RFC 7638 thumbprint libbooking uses as kid
	const thumb = await jose.calculateJwkThumbprint(jwks.keys[0], 'sha256');
	check(thumb === issued.kid, `kid is the RFC 7638 thumbprint jose computes (${thumb})`);
	// tampered: jose must refuse too
	const [h, p, s] = issued.token.split('.');
	const evil = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
	let refused = false;
	try {
		await jose.jwtVerify(`${h}.${evil}.${s}`, key, { issuer: ISSUER, audience: AUDIENCE });
	} catch (e) {
		refused = e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
	}
	check(refused, 'jose refuses libbooking\'s token with a changed payload');
	const lb = libbookingVerify(join(work, 'public.jwks'), `${h}.${evil}.${s}`);
	check(!lb.ok && lb.reason === 'signature', `libbooking refuses it too (${lb.reason})`);
}

// 2. jose generates a key and signs; libbooking verifies with jose's public JWK.
{
	const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
	const pub = await jose.exportJWK(publicKey);
	pub.kid = 'jose-key-1';
	pub.alg = 'EdDSA';
	pub.use = 'sig';
	const jwksPath = join(work, 'jose.jwks');
	writeFileSync(jwksPath, JSON.stringify({ keys: [pub] }));
	const sub = randomUUID();
	const sign = (aud) => new jose.SignJWT({ role: 'admin' })
		.setProtectedHeader({ alg: 'EdDSA', kid: 'jose-key-1', typ: 'JWT' })
		.setSubject(sub).setIssuer(ISSUER).setAudience(aud).setIssuedAt().setNotBefore('0s')
		.setExpirationTime('5m').setJti(randomUUID()).sign(privateKey);
	const r = libbookingVerify(jwksPath, await sign(AUDIENCE));
	check(r.ok && r.sub === sub && r.role === 'admin' && r.kid === 'jose-key-1',
		`libbooking verified jose's token: ${JSON.stringify(r)}`);
	const many = libbookingVerify(jwksPath, await sign([AUDIENCE, 'other']));
	check(many.ok, 'libbooking accepts an audience array that names it');
	const wrong = libbookingVerify(jwksPath, await sign('someone-else'));
	check(!wrong.ok && wrong.reason === 'audience', `libbooking refuses jose's token for another audience (${wrong.reason})`);
	// HS256 signed with the public JWK's text as the secret: the algorithm-confusion attack
	const hs = await new jose.SignJWT({ role: 'admin' })
		.setProtectedHeader({ alg: 'HS256', kid: 'jose-key-1', typ: 'JWT' })
		.setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m')
		.setJti(randomUUID()).sign(createSecretKey(Buffer.from(JSON.stringify(pub))));
	const conf = libbookingVerify(jwksPath, hs);
	check(!conf.ok && conf.reason === 'algorithm', `libbooking refuses HS256 keyed with the public JWK (${conf.reason})`);
	const unsecured = new jose.UnsecuredJWT({ role: 'admin' }).setSubject(sub).setIssuer(ISSUER)
		.setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').setJti(randomUUID()).encode();
	const none = libbookingVerify(jwksPath, unsecured);
	check(!none.ok && none.reason === 'algorithm', `libbooking refuses an unsecured (alg none) jose token (${none.reason})`);
}

// 3. jose signs with libbooking's private JWK file; libbooking verifies.
{
	const priv = JSON.parse(readFileSync(join(work, 'private.jwk'), 'utf8'));
	const key = await jose.importJWK(priv, 'EdDSA');
	const sub = randomUUID();
	const token = await new jose.SignJWT({ role: 'customer' })
		.setProtectedHeader({ alg: 'EdDSA', kid: priv.kid })
		.setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('2m')
		.setJti(randomUUID()).sign(key);
	const r = libbookingVerify(join(work, 'public.jwks'), token);
	check(r.ok && r.sub === sub, 'jose imported libbooking\'s private JWK; libbooking verified what it signed');
}

console.log(failures ? `${failures} interop check(s) FAILED` : 'all interop checks passed');
process.exit(failures ? 1 : 0);
