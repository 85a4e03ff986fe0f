/*
 * Keys as JWK (RFC 7517, OKP/Ed25519 of RFC 8037): base64url, generating,
 * parsing private keys and public key sets, writing key files.
 * SPDX-License-Identifier: MIT
 */
#include "auth_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest key file read (a set of a few hundred keys). */
#define KEY_FILE_MAX ((off_t)1024 * 1024)

/* ------------------------------------------------------------------ */
/* base64url                                                            */

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t booking__b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void booking__b64url_encode(char *out, const unsigned char *in, size_t n)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int booking__b64url_decode(unsigned char *out, size_t cap, size_t *len_out, const char *in, size_t n)
{
	*len_out = 0;
	if (n % 4 == 1)
		return -1; /* 6 bits cannot end a byte */
	size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (need > cap)
		return -1;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1; /* non-canonical: the unused trailing bits must be zero */
	*len_out = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* files                                                                */

/*
 * Key files are trusted only when nobody but their owner could have written
 * them: a writable key set or key directory lets anyone add a key and so
 * forge tokens, a readable private key lets anyone sign them. "Owner" is
 * this process's effective user or root (root can change any file anyway;
 * root-owned files are what /etc deployments have, as OpenSSH's StrictModes
 * accepts). There is no exception for sticky directories such as /tmp.
 */

/* Which key a file holds (a truth value: is it secret?). */
typedef booking__key_kind key_kind;

static const char *key_field(key_kind secret)
{
	return secret == BOOKING__KEY_PAYMENT ? "payment_key_file"
	       : secret                       ? "jwt_private_key_file"
	                                      : "jwt_public_keys_file";
}

static bool trusted_owner(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* VALIDATION_ERROR {"field","file","reason"[,"directory"]}: the key file `path` is not safe to use. */
static int key_file_refused(key_kind secret, const char *path, const char *dir, const char *reason, const char *why)
{
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:s,s:s*}", "field", key_field(secret), "file", path, "reason",
	                                     reason, "directory", dir),
	                           "%s: %s", path, why);
}

/* The directory `dir` (already open as `dfd`) holding the key file `path`. */
static int check_key_dir(int dfd, key_kind secret, const char *path, const char *dir)
{
	struct stat st;
	char why[PATH_MAX + 200];
	if (fstat(dfd, &st) != 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot inspect %s: %s", dir, strerror(errno));
	if (!trusted_owner(st.st_uid)) {
		snprintf(why, sizeof(why), "its directory %s belongs to uid %ld, not to this user (uid %ld) or root", dir,
		         (long)st.st_uid, (long)geteuid());
		return key_file_refused(secret, path, dir, "owner", why);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, sizeof(why),
		         "its directory %s is writable by group or others (mode %04o): anyone there could replace the "
		         "key (chmod go-w it)",
		         dir, (unsigned)(st.st_mode & 07777));
		return key_file_refused(secret, path, dir, "group_or_world_writable", why);
	}
	return 0;
}

/* The key file `path` itself, from fstat of the open file. */
static int check_key_file(const struct stat *st, key_kind secret, const char *path)
{
	char why[200];
	unsigned mode = (unsigned)(st->st_mode & 07777);
	if (!trusted_owner(st->st_uid)) {
		snprintf(why, sizeof(why), "belongs to uid %ld, not to this user (uid %ld) or root", (long)st->st_uid,
		         (long)geteuid());
		return key_file_refused(secret, path, NULL, "owner", why);
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, sizeof(why), "writable by group or others (mode %04o): chmod %s it", mode,
		         secret ? "600" : "go-w");
		return key_file_refused(secret, path, NULL, "group_or_world_writable", why);
	}
	if (secret && (st->st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, sizeof(why), "a secret key readable by others (mode %04o): chmod 600 it", mode);
		return key_file_refused(secret, path, NULL, "readable_by_others", why);
	}
	return 0;
}

/* Split `path` into its directory (into `dir`, "." for a bare name) and its last name. false: too long. */
static bool split_path(const char *path, char *dir, size_t size, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	int n = !slash ? snprintf(dir, size, ".")
	               : snprintf(dir, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return n > 0 && (size_t)n < size;
}

/*
 * Open the directory `target` is (or will be) in, checked; its resolved
 * name into `dir`, the last name of `target` into *base. Errors name the
 * key file as `path`. fd, or <0 (error set).
 */
static int open_key_dir(const char *target, const char *path, key_kind secret, char dir[PATH_MAX], const char **base)
{
	char given[PATH_MAX];
	if (!split_path(target, given, sizeof(given), base) || !**base)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: not a file name", path);
	if (!realpath(given, dir))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot open %s: %s", path, strerror(errno));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot open %s: %s", dir, strerror(errno));
	int rc = check_key_dir(dfd, secret, path, dir);
	if (rc < 0) {
		close(dfd);
		return rc;
	}
	return dfd;
}

/* Check that a key file may be written at `path`: its directory passes the checks. */
static int check_key_target(const char *path, key_kind secret)
{
	char dir[PATH_MAX];
	const char *base;
	int dfd = open_key_dir(path, path, secret, dir, &base);
	if (dfd < 0)
		return dfd;
	close(dfd);
	return 0;
}

/*
 * Open the key file `path` for reading, checked. The name is resolved first
 * (a link is judged by where it leads), then the file is opened in its
 * opened directory without following links and judged by fstat: what is
 * checked is what is read.
 */
static int open_key_file(const char *path, key_kind secret, struct stat *st)
{
	char real[PATH_MAX], dir[PATH_MAX];
	const char *base;
	if (!realpath(path, real))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot open %s: %s", path, strerror(errno));
	int dfd = open_key_dir(real, path, secret, dir, &base);
	if (dfd < 0)
		return dfd;
	int fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int err = errno;
	close(dfd);
	if (fd < 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot open %s: %s", path, strerror(err));
	int rc = 0;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > KEY_FILE_MAX)
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "%s: not a regular file of at most %lld bytes", path,
		                       (long long)KEY_FILE_MAX);
	else
		rc = check_key_file(st, secret, path);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int booking__read_key_file(char **out, size_t *len_out, const char *path, key_kind secret)
{
	*out = NULL;
	if (len_out)
		*len_out = 0;
	struct stat st;
	memset(&st, 0, sizeof(st));
	int fd = open_key_file(path, secret, &st);
	if (fd < 0)
		return fd;
	size_t size = (size_t)st.st_size;
	char *buf = booking_malloc(size + 1);
	if (!buf) {
		close(fd);
		return booking_error_oom();
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != size) {
		sodium_memzero(buf, size + 1);
		booking_free(buf);
		return booking_error_set(BOOKING_EVALIDATION, NULL, "cannot read %s", path);
	}
	buf[size] = '\0';
	if (strlen(buf) != size) {
		sodium_memzero(buf, size + 1);
		booking_free(buf);
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: contains a NUL byte", path);
	}
	*out = buf;
	if (len_out)
		*len_out = size;
	return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* "path.XXXXXX" next to `path`. */
static char *temp_name(const char *path)
{
	size_t n = strlen(path) + 8;
	char *t = booking_malloc(n);
	if (t)
		snprintf(t, n, "%s.XXXXXX", path);
	return t;
}

/*
 * Write `text` to a new temporary file next to `path` with `mode`, then move
 * it into place: with link() when `exclusive` (so an existing file is never
 * replaced: BOOKING_EEXISTS), else with rename().
 */
static int write_file(const char *path, const char *text, mode_t mode, bool exclusive)
{
	if (!text)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "%s: nothing to write", path);
	char *tmp = temp_name(path);
	if (!tmp)
		return booking_error_oom();
	int rc = 0;
	int fd = mkstemp(tmp); /* 0600 */
	if (fd < 0) {
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "cannot create a file next to %s: %s", path, strerror(errno));
		booking_free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0) {
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (exclusive) {
		if (link(tmp, path) != 0)
			rc = errno == EEXIST ? booking_error_set(BOOKING_EEXISTS, NULL, "%s exists: not overwritten", path)
			                     : booking_error_set(BOOKING_EINTERNAL, NULL, "cannot create %s: %s", path,
			                                         strerror(errno));
	} else if (rename(tmp, path) != 0) {
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "cannot replace %s: %s", path, strerror(errno));
	}
out:
	if (rc < 0 || exclusive)
		unlink(tmp);
	booking_free(tmp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* keys                                                                 */

static int check_kid(const char *kid)
{
	if (booking__check_text("kid", kid, 1, BOOKING__KID_MAX) < 0)
		return BOOKING_EVALIDATION;
	return 0;
}

/* RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256 of the canonical JWK). */
static char *thumbprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	char x[64];
	booking__b64url_encode(x, pk, crypto_sign_PUBLICKEYBYTES);
	char canon[160];
	int n = snprintf(canon, sizeof(canon), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)canon, (unsigned long long)n);
	char *kid = booking_malloc(booking__b64url_len(sizeof(digest)) + 1);
	if (kid)
		booking__b64url_encode(kid, digest, sizeof(digest));
	return kid;
}

/* The JWK object of a key: public only, or with "d" from `seed`. */
static json_t *jwk_json(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], const unsigned char *seed, const char *kid)
{
	char x[64], d[64];
	booking__b64url_encode(x, pk, crypto_sign_PUBLICKEYBYTES);
	json_t *o;
	if (seed) {
		booking__b64url_encode(d, seed, crypto_sign_SEEDBYTES);
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "d", d, "kid", kid, "alg",
		              "EdDSA", "use", "sig");
		sodium_memzero(d, sizeof(d));
	} else {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "kid", kid, "alg", "EdDSA",
		              "use", "sig");
	}
	return o;
}

/* json text that is wiped before it is freed (it may hold a private key). */
static void free_secret_text(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		booking_free(s);
	}
}

static int dump_secret(char **out, json_t *o, size_t flags)
{
	*out = NULL;
	if (!o)
		return booking_error_oom();
	char *s = booking__json_dumps(o, flags);
	/* wipe the private key's text inside the tree before it goes */
	json_t *d = json_object_get(o, "d");
	if (json_is_string(d)) {
		char *p = (char *)(uintptr_t)json_string_value(d);
		sodium_memzero(p, json_string_length(d));
	}
	json_decref(o);
	if (!s)
		return booking_error_oom();
	*out = s;
	return 0;
}

/* A fresh key; kid NULL: its thumbprint. */
static int key_generate(booking_signing_key **out, const char *kid)
{
	*out = NULL;
	if (kid && check_kid(kid) < 0)
		return BOOKING_EVALIDATION;
	if (sodium_init() < 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "libsodium failed to initialise");
	booking_signing_key *k = booking_calloc(1, sizeof(*k));
	if (!k)
		return booking_error_oom();
	crypto_sign_keypair(k->pk, k->sk);
	k->kid = kid ? booking_strdup(kid) : thumbprint(k->pk);
	if (!k->kid) {
		booking_signing_key_free(k);
		return booking_error_oom();
	}
	*out = k;
	return 0;
}

static int key_private_text(char **out, const booking_signing_key *k, size_t flags)
{
	return dump_secret(out, jwk_json(k->pk, k->sk, k->kid), flags);
}

booking_error_code booking_jwk_generate(char **private_jwk_out, char **public_jwk_out, const char *kid)
{
	if (private_jwk_out)
		*private_jwk_out = NULL;
	if (public_jwk_out)
		*public_jwk_out = NULL;
	booking_signing_key *k = NULL;
	int rc = key_generate(&k, kid);
	if (rc < 0 || !k)
		return rc;
	char *priv = NULL, *pub = NULL;
	if (private_jwk_out && (rc = key_private_text(&priv, k, JSON_COMPACT)) < 0)
		goto out;
	if (public_jwk_out && (rc = booking_signing_key_public_jwk(&pub, k)) < 0)
		goto out;
	if (private_jwk_out) {
		*private_jwk_out = priv;
		priv = NULL;
	}
	if (public_jwk_out) {
		*public_jwk_out = pub;
		pub = NULL;
	}
out:
	free_secret_text(priv);
	booking_free(pub);
	booking_signing_key_free(k);
	return rc;
}

booking_error_code booking_signing_key_public_jwk(char **json_out, const booking_signing_key *key)
{
	if (json_out)
		*json_out = NULL;
	if (!json_out || !key)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "signing_key_public_jwk: NULL argument");
	unsigned long failures = booking__json_failures();
	return booking__json_out(json_out, jwk_json(key->pk, NULL, key->kid), failures);
}

const char *booking_signing_key_kid(const booking_signing_key *key)
{
	return key ? key->kid : NULL;
}

void booking_signing_key_free(booking_signing_key *key)
{
	if (!key)
		return;
	booking_free(key->kid);
	sodium_memzero(key, sizeof(*key));
	booking_free(key);
}

/* A base64url member of exactly `size` bytes. */
static int b64_member(json_t *jwk, const char *name, unsigned char *out, size_t size, bool *present)
{
	json_t *v = json_object_get(jwk, name);
	*present = v != NULL;
	if (!v)
		return 0;
	size_t len = 0;
	if (!json_is_string(v) ||
	    booking__b64url_decode(out, size, &len, json_string_value(v), json_string_length(v)) != 0 || len != size)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk: \"%s\" must be %zu bytes of base64url", name, size);
	return 0;
}

/* kty OKP, crv Ed25519, alg (if any) EdDSA, use (if any) sig. false: another kind of key. */
static bool is_ed25519(json_t *jwk)
{
	json_t *kty = json_object_get(jwk, "kty"), *crv = json_object_get(jwk, "crv");
	return json_is_string(kty) && strcmp(json_string_value(kty), "OKP") == 0 && json_is_string(crv) &&
	       strcmp(json_string_value(crv), "Ed25519") == 0;
}

static int check_usage(json_t *jwk)
{
	json_t *alg = json_object_get(jwk, "alg"), *use = json_object_get(jwk, "use");
	if (alg && (!json_is_string(alg) || strcmp(json_string_value(alg), "EdDSA") != 0))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk: an Ed25519 key's \"alg\" must be \"EdDSA\"");
	if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk: \"use\" must be \"sig\"");
	return 0;
}

static json_t *parse_json(const char *text, const char *what, int *rc)
{
	bool oom = false;
	json_error_t jerr;
	json_t *j = text ? booking__json_loads(text, JSON_REJECT_DUPLICATES, &jerr, &oom) : NULL;
	if (oom)
		*rc = booking_error_oom();
	else if (!j)
		*rc = booking_error_set(BOOKING_EVALIDATION, NULL, "%s: not JSON%s%s", what, text ? ": " : "",
		                        text ? jerr.text : "");
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		*rc = booking_error_set(BOOKING_EVALIDATION, NULL, "%s: not a JSON object", what);
	}
	return j;
}

booking_error_code booking_signing_key_parse(booking_signing_key **out, const char *jwk_json_text)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	if (sodium_init() < 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "libsodium failed to initialise");
	int rc = 0;
	json_t *jwk = parse_json(jwk_json_text, "private jwk", &rc);
	if (!jwk)
		return rc;
	booking_signing_key *k = NULL;
	unsigned char seed[crypto_sign_SEEDBYTES], x[crypto_sign_PUBLICKEYBYTES];
	bool has_d = false, has_x = false;
	if (!is_ed25519(jwk)) {
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "private jwk: not an OKP Ed25519 key");
		goto out;
	}
	if ((rc = check_usage(jwk)) < 0 || (rc = b64_member(jwk, "d", seed, sizeof(seed), &has_d)) < 0 ||
	    (rc = b64_member(jwk, "x", x, sizeof(x), &has_x)) < 0)
		goto out;
	if (!has_d) {
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "private jwk: no \"d\" (this is a public key)");
		goto out;
	}
	json_t *kid = json_object_get(jwk, "kid");
	if (kid && (!json_is_string(kid) || check_kid(json_string_value(kid)) < 0)) {
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "private jwk: \"kid\" must be 1..%d bytes of text",
		                       BOOKING__KID_MAX);
		goto out;
	}
	if (!(k = booking_calloc(1, sizeof(*k)))) {
		rc = booking_error_oom();
		goto out;
	}
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	if (has_x && sodium_memcmp(x, k->pk, sizeof(x)) != 0) {
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "private jwk: \"x\" is not the public key of \"d\"");
		goto out;
	}
	k->kid = kid ? booking_strdup(json_string_value(kid)) : thumbprint(k->pk);
	if (!k->kid) {
		rc = booking_error_oom();
		goto out;
	}
	*out = k;
	k = NULL;
out:
	sodium_memzero(seed, sizeof(seed));
	json_t *d = json_object_get(jwk, "d");
	if (json_is_string(d))
		sodium_memzero((char *)(uintptr_t)json_string_value(d), json_string_length(d));
	json_decref(jwk);
	booking_signing_key_free(k);
	return rc;
}

booking_error_code booking_signing_key_load(booking_signing_key **out, const char *path)
{
	if (!out || !path)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	char *text = NULL;
	int rc = booking__read_key_file(&text, NULL, path, BOOKING__KEY_PRIVATE);
	if (rc < 0)
		return rc;
	rc = booking_signing_key_parse(out, text);
	free_secret_text(text);
	return rc;
}

/* ------------------------------------------------------------------ */
/* public key sets                                                      */

void booking_jwk_set_free(booking_jwk_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		booking_free(set->keys[i].kid);
	booking_free(set->keys);
	booking_free(set);
}

size_t booking_jwk_set_count(const booking_jwk_set *set)
{
	return set ? set->count : 0;
}

const booking__jwk *booking__jwk_set_find(const booking_jwk_set *set, const char *kid)
{
	if (!set || !kid)
		return NULL;
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->keys[i].kid, kid) == 0)
			return &set->keys[i];
	return NULL;
}

static int set_add(booking_jwk_set *set, const char *kid, const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	booking__jwk *n = booking_realloc(set->keys, (set->count + 1) * sizeof(*n));
	if (!n)
		return booking_error_oom();
	set->keys = n;
	booking__jwk *k = &set->keys[set->count];
	if (!(k->kid = booking_strdup(kid)))
		return booking_error_oom();
	memcpy(k->pk, pk, crypto_sign_PUBLICKEYBYTES);
	set->count++;
	return 0;
}

/* One member of a set: skipped when not Ed25519, added when it is a good one. */
static int set_add_json(booking_jwk_set *set, json_t *jwk, size_t index)
{
	if (!json_is_object(jwk))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk set: keys[%zu] is not an object", index);
	if (!is_ed25519(jwk))
		return 0;
	if (json_object_get(jwk, "d"))
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "jwk set: keys[%zu] is a private key (\"d\"): publish public keys only", index);
	int rc = check_usage(jwk);
	if (rc < 0)
		return rc;
	json_t *kid = json_object_get(jwk, "kid");
	if (!json_is_string(kid) || check_kid(json_string_value(kid)) < 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk set: keys[%zu] needs a \"kid\" of 1..%d bytes", index,
		                         BOOKING__KID_MAX);
	if (booking__jwk_set_find(set, json_string_value(kid)))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk set: kid \"%s\" appears twice",
		                         json_string_value(kid));
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	bool has_x = false;
	if ((rc = b64_member(jwk, "x", pk, sizeof(pk), &has_x)) < 0)
		return rc;
	if (!has_x)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "jwk set: keys[%zu] has no \"x\"", index);
	return set_add(set, json_string_value(kid), pk);
}

booking_error_code booking_jwk_set_parse(booking_jwk_set **out, const char *json)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	int rc = 0;
	json_t *root = parse_json(json, "jwk set", &rc);
	if (!root)
		return rc;
	booking_jwk_set *set = booking_calloc(1, sizeof(*set));
	if (!set) {
		json_decref(root);
		return booking_error_oom();
	}
	json_t *keys = json_object_get(root, "keys");
	if (keys) {
		if (!json_is_array(keys))
			rc = booking_error_set(BOOKING_EVALIDATION, NULL, "jwk set: \"keys\" must be an array");
		for (size_t i = 0; rc == 0 && i < json_array_size(keys); i++)
			rc = set_add_json(set, json_array_get(keys, i), i);
	} else {
		rc = set_add_json(set, root, 0);
	}
	json_decref(root);
	if (rc < 0) {
		booking_jwk_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

booking_error_code booking_jwk_set_load(booking_jwk_set **out, const char *path)
{
	if (!out || !path)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	char *text = NULL;
	int rc = booking__read_key_file(&text, NULL, path, BOOKING__KEY_PUBLIC);
	if (rc < 0)
		return rc;
	rc = booking_jwk_set_parse(out, text);
	booking_free(text);
	return rc;
}

int booking__jwk_set_merge(booking_jwk_set **out, const booking_jwk_set *base, const booking_signing_key *key)
{
	*out = NULL;
	booking_jwk_set *set = booking_calloc(1, sizeof(*set));
	if (!set)
		return booking_error_oom();
	int rc = 0;
	for (size_t i = 0; rc == 0 && base && i < base->count; i++)
		rc = set_add(set, base->keys[i].kid, base->keys[i].pk);
	if (rc == 0 && key) {
		const booking__jwk *same = booking__jwk_set_find(set, key->kid);
		if (!same)
			rc = set_add(set, key->kid, key->pk);
		else if (sodium_memcmp(same->pk, key->pk, sizeof(key->pk)) != 0)
			rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"jwt_public_keys_file\"}",
			                       "the public key set has another key under the private key's kid \"%s\"",
			                       key->kid);
	}
	if (rc < 0) {
		booking_jwk_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

/* ------------------------------------------------------------------ */
/* key files                                                            */

/*
 * A set this library wrote carries the top-level member "libbooking": 1
 * (RFC 7517 §5: members a reader does not know are ignored). Only such a
 * set is extended by a rotation: a set written by hand or by another
 * system is never merged into.
 */
#define SET_MARK "libbooking"

static bool set_is_ours(json_t *root)
{
	json_t *mark = json_object_get(root, SET_MARK);
	return json_is_integer(mark) && json_integer_value(mark) == 1;
}

/* The set at `path` as JSON, to be extended: a usable set, safe to trust, written by this library. */
static int load_own_set(json_t **out, const char *path)
{
	*out = NULL;
	char *text = NULL;
	int rc = booking__read_key_file(&text, NULL, path, BOOKING__KEY_PUBLIC);
	if (rc < 0)
		return rc;
	booking_jwk_set *check = NULL;
	rc = booking_jwk_set_parse(&check, text); /* refuse to extend a set we could not use */
	booking_jwk_set_free(check);
	json_t *root = rc == 0 ? parse_json(text, path, &rc) : NULL;
	booking_free(text);
	if (!root)
		return rc;
	if (!set_is_ours(root) || !json_is_array(json_object_get(root, "keys"))) {
		json_decref(root);
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:s,s:s}", "field", key_field(BOOKING__KEY_PUBLIC), "file", path, "reason",
		                                     "foreign_set"),
		                           "%s: not a key set libbooking wrote (no \"" SET_MARK "\": 1): not merged into",
		                           path);
	}
	*out = root;
	return 0;
}

/*
 * A new key pair: the private JWK into `private_path` (never replacing a
 * file), its public JWK appended to `set`, which is written to
 * `public_path` (a new file unless `replace`).
 */
static int write_key_pair(const char *private_path, const char *public_path, json_t *set, bool replace,
                          const char *kid, char **kid_out)
{
	booking_signing_key *k = NULL;
	char *priv = NULL, *pub_text = NULL;
	int rc;
	if ((rc = key_generate(&k, kid)) < 0 || !k)
		goto out;
	json_t *keys = json_object_get(set, "keys");
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *other = json_object_get(json_array_get(keys, i), "kid");
		if (json_is_string(other) && strcmp(json_string_value(other), k->kid) == 0) {
			rc = booking_error_set(BOOKING_EVALIDATION, NULL, "%s already has a key with kid \"%s\"", public_path,
			                       k->kid);
			goto out;
		}
	}
	json_t *pub = jwk_json(k->pk, NULL, k->kid);
	if (!pub || json_array_append_new(keys, pub) != 0) {
		rc = booking_error_oom();
		goto out;
	}
	if (!(pub_text = booking__json_dumps(set, JSON_INDENT(2)))) {
		rc = booking_error_oom();
		goto out;
	}
	if ((rc = key_private_text(&priv, k, JSON_INDENT(2))) < 0)
		goto out;
	/* the private key first: a set naming a key nobody holds is harmless, the reverse is not */
	if ((rc = write_file(private_path, priv, 0600, true)) < 0)
		goto out;
	if ((rc = write_file(public_path, pub_text, 0644, !replace)) < 0) {
		unlink(private_path); /* ours, just created: leave no key that no set names */
		goto out;
	}
	if (kid_out && !(*kid_out = booking_strdup(k->kid)))
		rc = booking_error_oom();
out:
	free_secret_text(priv);
	booking_free(pub_text);
	booking_signing_key_free(k);
	return rc;
}

/* What both entry points check first: paths given, no private key there, directories safe. */
static int check_targets(const char *private_path, const char *public_path)
{
	if (!private_path || !public_path || !*private_path || !*public_path)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "key file paths are required");
	if (access(private_path, F_OK) == 0)
		return booking_error_set(BOOKING_EEXISTS, NULL, "%s exists: not overwritten", private_path);
	int rc;
	if ((rc = check_key_target(private_path, BOOKING__KEY_PRIVATE)) < 0 || (rc = check_key_target(public_path, BOOKING__KEY_PUBLIC)) < 0)
		return rc;
	return 0;
}

booking_error_code booking_jwk_generate_files(char **kid_out, const char *private_path, const char *public_path, const char *kid)
{
	if (kid_out)
		*kid_out = NULL;
	int rc = check_targets(private_path, public_path);
	if (rc < 0)
		return rc;
	if (access(public_path, F_OK) == 0)
		return booking_error_set(BOOKING_EEXISTS, NULL,
		                         "%s exists: a key is added to an existing set only by a rotation "
		                         "(booking_jwk_rotate_files)",
		                         public_path);
	json_t *set = json_pack("{s:i,s:[]}", SET_MARK, 1, "keys");
	if (!set)
		return booking_error_oom();
	rc = write_key_pair(private_path, public_path, set, false, kid, kid_out);
	json_decref(set);
	return rc;
}

booking_error_code booking_jwk_rotate_files(char **kid_out, const char *private_path, const char *public_path, const char *kid)
{
	if (kid_out)
		*kid_out = NULL;
	int rc = check_targets(private_path, public_path);
	if (rc < 0)
		return rc;
	if (access(public_path, F_OK) != 0 && errno == ENOENT)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "%s does not exist: nothing to rotate (generate a key first)",
		                         public_path);
	json_t *set = NULL;
	if ((rc = load_own_set(&set, public_path)) < 0)
		return rc;
	rc = write_key_pair(private_path, public_path, set, true, kid, kid_out);
	json_decref(set);
	return rc;
}
