/*
 * libbooking auth tests — the shared fixture.
 * SPDX-License-Identifier: MIT
 */
#include "auth_fixture.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

void ax_options(ax *a, booking_options *o)
{
	booking_options_init(o, BOOKING_OPTIONS_VERSION);
	o->jwt_private_key_file = a->priv[0] ? a->priv : NULL;
	o->jwt_public_keys_file = a->pub[0] ? a->pub : NULL;
	o->jwt_issuer = AX_ISSUER;
	o->jwt_audience = AX_AUDIENCE;
	o->password_opslimit = AX_OPSLIMIT;
	o->password_memlimit_kib = AX_MEMLIMIT_KIB;
}

void ax_keys(ax *a, const char *kid)
{
	snprintf(a->dir, sizeof(a->dir), "%s/booking-auth.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(a->dir));
	snprintf(a->priv, sizeof(a->priv), "%s/private.jwk", a->dir);
	snprintf(a->pub, sizeof(a->pub), "%s/public.jwks", a->dir);
	ck_assert_ok(booking_jwk_generate_files(NULL, a->priv, a->pub, kid));
}

void ax_open_with(ax *a, booking_options *o)
{
	booking_options local;
	if (!o) {
		ax_options(a, &local);
		o = &local;
	}
	char url[512], file[512];
	fx_fresh_url(url, sizeof(url), fx_store_url(), file, sizeof(file));
	booking_store *st = NULL;
	int rc = booking_store_open(&st, url, o->clock);
	ck_assert_msg(rc == 0, "booking_store_open(%s): %s: %s", url, booking_error_name(rc), booking_error_last()->message);
	o->store = st;
	fx_open(&a->f, o);
	o->store = NULL;
	a->f.store = st;
	snprintf(a->f.url, sizeof(a->f.url), "%s", url);
	snprintf(a->f.file, sizeof(a->f.file), "%s", file);
}

void ax_setup(ax *a)
{
	memset(a, 0, sizeof(*a));
	ax_keys(a, NULL);
	ax_open_with(a, NULL);
	fx_seed(&a->f);
}

void ax_close(ax *a)
{
	fx_close(&a->f);
	if (a->dir[0]) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a->dir);
		ck_assert_int_eq(system(cmd), 0);
		a->dir[0] = '\0';
	}
}

void ax_register(ax *a, const char *email, bool admin, char id_out[BOOKING_ID_SIZE])
{
	booking_user *u = NULL;
	booking_ctx sys = *booking_ctx_system();
	ck_assert_ok(booking_auth_register(&u, a->f.bk, admin ? &sys : NULL, email, AX_PASSWORD,
	                                   admin ? BOOKING_ROLE_ADMIN : BOOKING_ROLE_CUSTOMER));
	ck_assert_ptr_nonnull(u);
	if (id_out)
		snprintf(id_out, BOOKING_ID_SIZE, "%s", u->id);
	booking_user_free(u);
}

char *ax_login(ax *a, const char *email)
{
	char *token = NULL;
	ck_assert_ok(booking_auth_login(&token, NULL, a->f.bk, NULL, email, AX_PASSWORD));
	ck_assert_ptr_nonnull(token);
	return token;
}

booking_ctx ax_ctx(ax *a, const char *token, booking_token **tok_out)
{
	booking_ctx ctx;
	ck_assert_ok(booking_auth_ctx(&ctx, tok_out, a->f.bk, token));
	return ctx;
}

const char *ax_reason(void)
{
	static char reason[64];
	reason[0] = '\0';
	json_t *d = json_loads(booking_error_last()->details_json, 0, NULL);
	json_t *r = d ? json_object_get(d, "reason") : NULL;
	if (json_is_string(r))
		snprintf(reason, sizeof(reason), "%s", json_string_value(r));
	json_decref(d);
	return reason;
}
