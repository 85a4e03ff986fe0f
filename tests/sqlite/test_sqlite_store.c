/*
 * SQLite store — behaviour particular to SQLite: `sqlite::memory:` is one
 * database for every thread of a store, a busy database answers
 * SERVICE_UNAVAILABLE after the busy timeout, duplicate ids answer
 * ALREADY_EXISTS without echoing data, more threads than pooled
 * connections take turns, and the settings in the URL (synchronous, pool,
 * pool_timeout) reach the connections.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"
#include "sql/sql.h" /* the shared layer's statements (backends/sql/sql.h) */

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Every connection the store opens, seen through an auto-extension
 * (process-wide; Check runs each test in a process of its own).
 */
static sqlite3 *opened[64];
static int n_opened;

static int record_open(sqlite3 *db, char **err, const struct sqlite3_api_routines *api)
{
	(void)err;
	(void)api;
	if (n_opened < (int)(sizeof opened / sizeof opened[0]))
		opened[n_opened] = db;
	n_opened++;
	return SQLITE_OK;
}

static void record_opens(void)
{
	n_opened = 0;
	ck_assert_int_eq(sqlite3_auto_extension((void (*)(void))record_open), SQLITE_OK);
}

/* An integer PRAGMA as a connection of the store sees it (the connection idle in its pool). */
static int pragma_of(sqlite3 *db, const char *pragma)
{
	sqlite3_stmt *q = NULL;
	char sql[64];
	int v = -1;

	snprintf(sql, sizeof sql, "PRAGMA %s", pragma);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void movie_init(booking_movie *m, const char *title)
{
	memset(m, 0, sizeof *m);
	booking_uuid_v7(m->id, (int64_t)time(NULL) * 1000);
	m->title = (char *)title;
	m->duration_minutes = 100;
	m->created_at = (int64_t)time(NULL) * 1000;
}

struct reader {
	booking_store *st;
	const char *id;
	int rc;
	char title[64];
};

/* A movie_list callback that lists again from inside, `depth` levels down: each level holds a connection. */
struct nest {
	booking_store *st;
	int depth, reached, rc;
};

static int nest_in(const booking_movie *m, void *payload)
{
	struct nest *n = payload;
	(void)m;
	if (++n->reached < n->depth) {
		int rc = n->st->catalog->movie_list(n->st, nest_in, n);
		if (rc != 0 && n->rc == 0)
			n->rc = rc; /* the deepest failure, not the outer levels' successes */
	}
	return 0;
}

static void *read_movie(void *arg)
{
	struct reader *r = arg;
	booking_movie *m = NULL;

	r->rc = r->st->catalog->movie_get(&m, r->st, r->id);
	if (r->rc == 0) {
		snprintf(r->title, sizeof r->title, "%s", m->title);
		booking_movie_free(m);
	}
	return NULL;
}

START_TEST(memory_url_is_one_database_for_all_threads_of_a_store)
{
	booking_store *st = NULL, *other = NULL;
	booking_movie m, *missing = NULL;
	struct reader r;
	pthread_t t;

	sqt_assert_ok(booking_store_open(&st, "sqlite::memory:", NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	movie_init(&m, "Shared");
	sqt_assert_ok(st->catalog->movie_insert(st, &m));

	r = (struct reader){.st = st, .id = m.id};
	ck_assert_int_eq(pthread_create(&t, NULL, read_movie, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	sqt_assert_ok(r.rc);
	ck_assert_str_eq(r.title, "Shared");

	/* A second store is a second database. */
	sqt_assert_ok(booking_store_open(&other, "sqlite::memory:", NULL));
	sqt_assert_ok(other->migrate(NULL, other));
	sqt_assert_code(other->catalog->movie_get(&missing, other, m.id), BOOKING_EMOVIE_NOT_FOUND);
	other->free(other);
	st->free(st);
}
END_TEST

START_TEST(busy_database_answers_unavailable_after_the_timeout)
{
	char url[600];
	booking_store *st = NULL;
	booking_movie m;
	sqlite3 *locker = NULL;
	time_t start;
	sqt_db db;
	int rc;

	sqt_db_init(&db, "busy");
	snprintf(url, sizeof url, "%s?pool_timeout=5", db.url);
	sqt_assert_ok(booking_store_open(&st, url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));

	ck_assert_int_eq(sqlite3_open(db.path, &locker), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	movie_init(&m, "Blocked");
	start = time(NULL);
	rc = st->catalog->movie_insert(st, &m);
	sqt_assert_code(rc, BOOKING_EUNAVAILABLE);
	ck_assert_int_ge(time(NULL) - start, 4);
	ck_assert_int_eq(sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

	/* Reads are not blocked by a writer (WAL), and the write goes through once it is gone. */
	sqt_assert_ok(st->catalog->movie_insert(st, &m));
	sqlite3_close(locker);
	st->free(st);
	sqt_db_cleanup(&db);
}
END_TEST

START_TEST(duplicate_id_answers_already_exists_without_echoing_data)
{
	booking_store *st = NULL;
	booking_movie m;
	sqt_db db;

	sqt_db_init(&db, "dup");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	movie_init(&m, "secret-title-123");
	sqt_assert_ok(st->catalog->movie_insert(st, &m));
	sqt_assert_code(st->catalog->movie_insert(st, &m), BOOKING_EEXISTS);
	ck_assert_ptr_null(strstr(booking_error_last()->message, "secret-title-123"));
	ck_assert_ptr_null(strstr(booking_error_last()->message, "INSERT"));
	st->free(st);
	sqt_db_cleanup(&db);
}
END_TEST

/* Security item 2: the database file holds password hashes; the store creates it 0600 whatever the umask. */
START_TEST(a_database_file_the_store_creates_is_private)
{
	booking_store *st = NULL;
	booking_movie m;
	sqt_db db;
	struct stat sb;
	char wal[400];

	sqt_db_init(&db, "private");
	mode_t old = umask(022);
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	movie_init(&m, "Private");
	sqt_assert_ok(st->catalog->movie_insert(st, &m));
	umask(old);
	ck_assert_int_eq(stat(db.path, &sb), 0);
	ck_assert_msg((sb.st_mode & 0777) == 0600, "database mode %o", (unsigned)(sb.st_mode & 0777));
	snprintf(wal, sizeof(wal), "%s-wal", db.path);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_msg((sb.st_mode & 0777) == 0600, "-wal mode %o", (unsigned)(sb.st_mode & 0777));
	st->free(st);
	sqt_db_cleanup(&db);

	/* an existing file keeps the mode its owner gave it */
	sqt_db_init(&db, "shared");
	FILE *f = fopen(db.path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(chmod(db.path, 0640), 0);
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	ck_assert_int_eq(stat(db.path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	st->free(st);
	sqt_db_cleanup(&db);
}
END_TEST

/*
 * Security item 2: what the database keeps of a payment request is
 * HMAC-SHA256 under the payment key (a file outside it), not a digest
 * anyone could brute-force back into the card number.
 */
START_TEST(the_stored_payment_fingerprint_is_keyed)
{
	sqt_db db;
	char keydir[300], keyfile[400], showtime[BOOKING_ID_SIZE];
	sqt_db_init(&db, "fingerprint");
	snprintf(keydir, sizeof(keydir), "%s/keys", db.dir);
	ck_assert_int_eq(mkdir(keydir, 0700), 0);
	snprintf(keyfile, sizeof(keyfile), "%s/payment.key", keydir);
	sqt_assert_ok(booking_payment_key_generate_file(keyfile));

	booking_options o;
	booking_handle *bk = NULL;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = db.url;
	o.log_level = BOOKING_LOG_CRITICAL;
	o.payment_key_file = keyfile;
	sqt_assert_ok(booking_open(&bk, &o));
	sqt_seed(bk, "A:4", showtime);
	booking_ctx alice = sqt_customer("alice");
	const char *seat = "A1";
	booking_reservation *r = NULL;
	sqt_assert_ok(booking_hold(&r, bk, &alice, showtime, &seat, 1));
	sqt_assert_ok(booking_pay(NULL, bk, &alice, r->id, "order-1", "4242 4242 4242 4242"));

	char stored[200];
	sqt_sql_text(db.path, "SELECT request_hash FROM idempotency_keys", stored, sizeof(stored));
	/* the expected value, computed here from the key file */
	FILE *f = fopen(keyfile, "r");
	ck_assert_ptr_nonnull(f);
	char hex[80] = "";
	ck_assert_ptr_nonnull(fgets(hex, sizeof(hex), f));
	fclose(f);
	unsigned char key[32], mac[crypto_auth_hmacsha256_BYTES];
	size_t klen = 0;
	ck_assert_int_eq(sodium_hex2bin(key, sizeof(key), hex, 64, NULL, &klen, NULL), 0);
	ck_assert_uint_eq(klen, 32);
	char msg[128];
	snprintf(msg, sizeof(msg), "%s\n%s", r->id, "4242424242424242");
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	char want[200] = "hmac-sha256:";
	sodium_bin2hex(want + strlen(want), sizeof(want) - strlen(want), mac, sizeof(mac));
	ck_assert_str_eq(stored, want);
	/* and not the unkeyed digest of the same text */
	unsigned char h[crypto_hash_sha256_BYTES];
	char unkeyed[80];
	crypto_hash_sha256(h, (const unsigned char *)msg, strlen(msg));
	sodium_bin2hex(unkeyed, sizeof(unkeyed), h, sizeof(h));
	ck_assert_ptr_null(strstr(stored, unkeyed));
	/* nothing else in the row holds more of the card than its last four digits */
	char last4[16];
	sqt_sql_text(db.path, "SELECT card_last4 FROM payments", last4, sizeof(last4));
	ck_assert_str_eq(last4, "4242");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM payments WHERE instr(card_last4 || gateway_ref ||"
	                                      " failure_code, '424242424242') > 0"),
	                 0);
	booking_reservation_free(r);
	booking_close(bk);
	unlink(keyfile);
	rmdir(keydir);
	sqt_db_cleanup(&db);
}
END_TEST

enum { WRITERS = 8, WRITES = 50 };

struct writer {
	booking_store *st;
	int failures;
	char error[160];
};

static void *write_movies(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < WRITES; i++) {
		booking_movie m, *back = NULL;
		int rc;

		movie_init(&m, "Turn");
		rc = w->st->catalog->movie_insert(w->st, &m);
		if (rc == 0)
			rc = w->st->catalog->movie_get(&back, w->st, m.id);
		booking_movie_free(back);
		if (rc != 0 && w->failures++ == 0)
			snprintf(w->error, sizeof w->error, "%s", booking_error_last()->message);
	}
	return NULL;
}

START_TEST(url_parameters_reach_every_connection)
{
	static const struct {
		const char *params;
		int synchronous, busy_ms;
	} cases[] = {
	    {"", 1, 30000},                                      /* the defaults: NORMAL, 30 s */
	    {"?synchronous=full", 2, 30000},
	    {"?synchronous=NORMAL&pool_timeout=7", 1, 7000},
	    {"?pool_timeout=120&synchronous=%66ull", 2, 120000}, /* percent-encoded: "full" */
	    {"?synchronous=full&synchronous=normal", 1, 30000},  /* the last one counts */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char url[600];
		booking_store *st = NULL;
		sqt_db db;

		sqt_db_init(&db, "params");
		snprintf(url, sizeof url, "%s%s", db.url, cases[i].params);
		record_opens();
		sqt_assert_ok(booking_store_open(&st, url, NULL));
		ck_assert_int_eq(n_opened, 1); /* the store opens one connection at once, lazily the rest */
		ck_assert_msg(pragma_of(opened[0], "synchronous") == cases[i].synchronous, "%s: synchronous %d",
		              url, pragma_of(opened[0], "synchronous"));
		ck_assert_msg(pragma_of(opened[0], "busy_timeout") == cases[i].busy_ms, "%s: busy_timeout %d", url,
		              pragma_of(opened[0], "busy_timeout"));
		/* the file is the path, the parameters are no part of its name */
		ck_assert_int_eq(access(db.path, F_OK), 0);
		st->free(st);
		sqlite3_reset_auto_extension();
		sqt_db_cleanup(&db);
	}
	/* sqlite::memory: takes them too */
	booking_store *st = NULL;
	record_opens();
	sqt_assert_ok(booking_store_open(&st, "sqlite::memory:?synchronous=full&pool_timeout=9", NULL));
	ck_assert_int_eq(n_opened, 1);
	ck_assert_int_eq(pragma_of(opened[0], "synchronous"), 2);
	ck_assert_int_eq(pragma_of(opened[0], "busy_timeout"), 9000);
	st->free(st);
	sqlite3_reset_auto_extension();
}
END_TEST

START_TEST(the_url_pool_bounds_the_connections)
{
	for (int pool = 1; pool <= 3; pool++) {
		char url[600];
		booking_store *st = NULL;
		booking_movie m;
		sqt_db db;

		sqt_db_init(&db, "pool");
		snprintf(url, sizeof url, "%s?pool=%d", db.url, pool);
		record_opens();
		sqt_assert_ok(booking_store_open(&st, url, NULL));
		sqt_assert_ok(st->migrate(NULL, st));
		movie_init(&m, "Nested");
		sqt_assert_ok(st->catalog->movie_insert(st, &m));
		/* as many nested lists as the pool has connections: all served */
		struct nest n = {.st = st, .depth = pool};
		sqt_assert_ok(st->catalog->movie_list(st, nest_in, &n));
		ck_assert_int_eq(n.reached, pool);
		sqt_assert_ok(n.rc);
		/* the pool's, and the writer connection of the group commit (the insert opened it) */
		ck_assert_int_eq(n_opened, pool + 1);
		/* one more: this thread holds them all, refused at once */
		n = (struct nest){.st = st, .depth = pool + 1};
		sqt_assert_ok(st->catalog->movie_list(st, nest_in, &n));
		sqt_assert_code(n.rc, BOOKING_EINTERNAL);
		ck_assert_int_eq(n_opened, pool + 1);
		st->free(st);
		sqlite3_reset_auto_extension();
		sqt_db_cleanup(&db);
	}
}
END_TEST

START_TEST(bad_url_parameters_are_refused_naming_the_field_and_create_nothing)
{
	static const struct {
		const char *params, *parameter, *says;
	} bad[] = {
	    {"?pool=0", "pool", "must be an integer in 1..50"},
	    {"?pool=51", "pool", "must be an integer in 1..50"},
	    {"?pool=ten", "pool", "must be an integer in 1..50"},
	    {"?pool_timeout=4", "pool_timeout", "must be an integer in 5..120"},
	    {"?pool_timeout=121", "pool_timeout", "must be an integer in 5..120"},
	    {"?synchronous=off", "synchronous", "must be one of normal, full"},
	    {"?synchronous=1", "synchronous", "must be one of normal, full"},
	    {"?journal_mode=delete", "journal_mode", "unknown parameter"},
	    {"?pool=1&busy_timeout=5", "busy_timeout", "unknown parameter"},
	    {"?pool=%4", "pool=%4", "malformed percent-encoding"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char url[600], parameter[64];
		booking_store *st = (booking_store *)&st;
		sqt_db db;

		sqt_db_init(&db, "bad");
		snprintf(url, sizeof url, "%s%s", db.url, bad[i].params);
		sqt_assert_code(booking_store_open(&st, url, NULL), BOOKING_EVALIDATION);
		ck_assert_ptr_null(st);
		const booking_error *e = booking_error_last();
		ck_assert_msg(strncmp(e->message, "store_url: ", 11) == 0 && strstr(e->message, bad[i].says), "%s: %s",
		              url, e->message);
		snprintf(parameter, sizeof parameter, "\"parameter\":\"%s\"", bad[i].parameter);
		ck_assert_msg(strstr(e->details_json, "\"field\":\"store_url\"") && strstr(e->details_json, parameter),
		              "%s: %s", url, e->details_json);
		ck_assert_msg(access(db.path, F_OK) != 0, "%s: a database was created", url);
		sqt_db_cleanup(&db);
	}
	booking_store *st = NULL;
	sqt_assert_code(booking_store_open(&st, "sqlite::memory:?pool=0", NULL), BOOKING_EVALIDATION);
	sqt_assert_code(booking_store_open(&st, "sqlite://?pool=1", NULL), BOOKING_EVALIDATION); /* no path */
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "without a path"));
}
END_TEST

static int count_movie(const booking_movie *m, void *payload)
{
	(void)m;
	(*(int *)payload)++;
	return 0;
}

START_TEST(more_threads_than_connections_take_turns)
{
	char url[600];
	booking_store *st = NULL;
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	int movies = 0;
	sqt_db db;

	sqt_db_init(&db, "turns");
	snprintf(url, sizeof url, "%s?pool=2", db.url);
	sqt_assert_ok(booking_store_open(&st, url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.st = st};
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_movies, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_msg(w[i].failures == 0, "writer %d failed %d times: %s", i, w[i].failures, w[i].error);
	}
	sqt_assert_ok(st->catalog->movie_list(st, count_movie, &movies));
	ck_assert_int_eq(movies, WRITERS * WRITES);
	st->free(st);
	sqt_db_cleanup(&db);
}
END_TEST

/*
 * The shared SQL layer writes $1..$N and SQLite binds each by its name:
 * every statement of every text (a write's may hold several) prepares,
 * and each of its parameters is named $N.
 */
START_TEST(every_shared_statement_names_its_placeholders_on_sqlite)
{
	static const char *const texts[SQLQ_COUNT] = SQL_TEXTS(SQL_LITE);
	booking_store *st = NULL;
	sqlite3 *db = NULL;
	sqt_db file;

	sqt_db_init(&file, "placeholders");
	sqt_assert_ok(booking_store_open(&st, file.url, NULL));
	sqt_assert_ok(st->migrate(NULL, st));
	ck_assert_int_eq(sqlite3_open(file.path, &db), SQLITE_OK);
	for (int q = 0; q < SQLQ_COUNT; q++) {
		int parts = 0;

		for (const char *at = texts[q]; *at != '\0'; parts++) {
			sqlite3_stmt *s = NULL;

			ck_assert_msg(sqlite3_prepare_v2(db, at, -1, &s, &at) == SQLITE_OK && s != NULL,
			              "statement %d: %s: %s", q, sqlite3_errmsg(db), texts[q]);
			for (int i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
				const char *name = sqlite3_bind_parameter_name(s, i);

				ck_assert_msg(name != NULL && name[0] == '$' && atoi(name + 1) >= 1,
				              "statement %d: parameter %d is %s: %s", q, i, name, texts[q]);
			}
			sqlite3_finalize(s);
			while (*at == ' ' || *at == ';')
				at++;
		}
		ck_assert_msg(parts >= 1 && parts <= SQL_MAX_PARTS, "statement %d has %d parts", q, parts);
	}
	sqlite3_close(db);
	st->free(st);
	sqt_db_cleanup(&file);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, memory_url_is_one_database_for_all_threads_of_a_store);
	tcase_add_test(tc, busy_database_answers_unavailable_after_the_timeout);
	tcase_add_test(tc, duplicate_id_answers_already_exists_without_echoing_data);
	tcase_add_test(tc, more_threads_than_connections_take_turns);
	tcase_add_test(tc, a_database_file_the_store_creates_is_private);
	tcase_add_test(tc, the_stored_payment_fingerprint_is_keyed);
	tcase_add_test(tc, url_parameters_reach_every_connection);
	tcase_add_test(tc, the_url_pool_bounds_the_connections);
	tcase_add_test(tc, bad_url_parameters_are_refused_naming_the_field_and_create_nothing);
	tcase_add_test(tc, every_shared_statement_names_its_placeholders_on_sqlite);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
