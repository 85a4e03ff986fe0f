/*
 * hold_and_pay.cpp — libbooking from C++17: the C API behind small RAII
 * owners (std::unique_ptr with the matching booking_*_free), failures as
 * exceptions that carry the stable code name, and the real path of a
 * host: keys, register, log in, a ctx verified from each token. Then eight
 * customers race from eight threads for the same two seats: exactly one
 * gets them, the others get SEAT_ALREADY_BOOKED and the seat that was taken.
 * The wrappers live in `namespace booking`: no C name is plain `booking`
 * (the handle is booking_handle), so C++ code may use that namespace.
 *   c++ -std=c++17 hold_and_pay.cpp $(pkg-config --cflags --libs libbooking) -pthread -o hold_and_pay_cpp
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace booking {

/* A failed call: its stable code name and message, read from the thread's error record. */
class error : public std::runtime_error {
public:
	explicit error(booking_error_code rc)
		: std::runtime_error(std::string(booking_error_name(rc)) + ": " + booking_error_last()->message), code_(rc)
	{
	}
	booking_error_code code() const { return code_; }

private:
	booking_error_code code_;
};

inline void check(booking_error_code rc)
{
	if (rc != BOOKING_OK)
		throw error(rc);
}

/* One owner type per record: the deleter is the record's free function. */
template <typename T, void (*Free)(T *)> struct deleter {
	void operator()(T *p) const { Free(p); }
};
template <typename T, void (*Free)(T *)> using owned = std::unique_ptr<T, deleter<T, Free>>;
inline void free_text(char *s) { booking_free(s); }
inline void free_seats(booking_seat *s) { booking_free(s); }

using handle = owned<booking_handle, booking_close>;
using text = owned<char, free_text>;
using token = owned<booking_token, booking_token_free>;
using reservation = owned<booking_reservation, booking_reservation_free>;
using payment = owned<booking_payment, booking_payment_free>;

/* A logged-in user: the token text, the verified token, and the ctx that borrows from it. */
struct session {
	text bearer;
	token verified;
	booking_ctx ctx = BOOKING_CTX_INIT;
};

inline session log_in(booking_handle *bk, const char *email, const char *password)
{
	session s;
	char *t = nullptr;
	check(booking_auth_login(&t, nullptr, bk, nullptr, email, password));
	s.bearer.reset(t);
	booking_token *v = nullptr;
	check(booking_auth_ctx(&s.ctx, &v, bk, s.bearer.get()));
	s.verified.reset(v);
	return s;
}

} // namespace booking

int main()
{
	char dir[] = "/tmp/booking-cpp-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	const std::string paykey = std::string(dir) + "/payment.key", priv = std::string(dir) + "/jwt.private.json",
	                  pub = std::string(dir) + "/jwt.public.json";
	int rc = 1;
	try {
		booking::check(booking_payment_key_generate_file(paykey.c_str()));
		booking::check(booking_jwk_generate_files(nullptr, priv.c_str(), pub.c_str(), nullptr));
		booking_options opts = BOOKING_OPTIONS_INIT;
		opts.store_url = "memory:";
		opts.payment_key_file = paykey.c_str();
		opts.jwt_private_key_file = priv.c_str();
		opts.jwt_public_keys_file = pub.c_str();
		opts.password_memlimit_kib = 8192; /* a quick hash for a demo; keep the default (64 MiB) in production */
		booking_handle *raw = nullptr;
		booking::check(booking_open(&raw, &opts));
		booking::handle bk(raw);

		const booking_ctx anonymous = BOOKING_CTX_INIT;
		booking::check(booking_auth_register(nullptr, bk.get(), booking_ctx_system(), "admin@example.com",
		                                 "a long admin passphrase", BOOKING_ROLE_ADMIN));
		booking::session admin = booking::log_in(bk.get(), "admin@example.com", "a long admin passphrase");

		/* the catalog: one showtime of a 2 x 5 screen */
		booking_seat *seats = nullptr;
		size_t n = 0;
		booking::check(booking_layout_parse(&seats, &n, "A-B:5", sizeof *seats));
		booking::owned<booking_seat, booking::free_seats> layout(seats);
		booking_theater *t = nullptr;
		booking::check(booking_theater_create(&t, bk.get(), &admin.ctx, "Odeon", "Lyon"));
		booking::owned<booking_theater, booking_theater_free> theater(t);
		booking_screen *scr = nullptr;
		booking::check(booking_screen_create(&scr, bk.get(), &admin.ctx, theater->id, "Screen 1", layout.get(), n,
		                                 sizeof(booking_seat)));
		booking::owned<booking_screen, booking_screen_free> screen(scr);
		booking_movie *m = nullptr;
		booking::check(booking_movie_create(&m, bk.get(), &admin.ctx, "Metropolis", 153));
		booking::owned<booking_movie, booking_movie_free> movie(m);
		const booking_price price = {"standard", 1250};
		booking_showtime *st = nullptr;
		booking::check(booking_showtime_create(&st, bk.get(), &admin.ctx, movie->id, screen->id,
		                                   booking_now(bk.get()) + int64_t(2) * 3600 * 1000, "EUR", &price, 1, sizeof(booking_price)));
		booking::owned<booking_showtime, booking_showtime_free> showtime(st);

		/* eight customers, each logged in, race for B2 and B3 from eight threads */
		constexpr int buyers = 8;
		std::vector<booking::session> sessions;
		for (int i = 0; i < buyers; i++) {
			const std::string email = "buyer" + std::to_string(i) + "@example.com";
			booking::check(booking_auth_register(nullptr, bk.get(), &anonymous, email.c_str(), "buyer's passphrase",
			                                 BOOKING_ROLE_CUSTOMER));
			sessions.push_back(booking::log_in(bk.get(), email.c_str(), "buyer's passphrase"));
		}
		std::atomic<int> won{0}, refused{0};
		std::vector<booking::reservation> holds(buyers);
		std::vector<std::thread> threads;
		threads.reserve(buyers);
		for (int i = 0; i < buyers; i++)
			threads.emplace_back([&, i] {
				const char *wanted[] = {"B2", "B3"};
				booking_reservation *r = nullptr;
				booking_error_code hrc = booking_hold(&r, bk.get(), &sessions[i].ctx, showtime->id, wanted, 2);
				if (hrc == BOOKING_OK) {
					holds[i].reset(r);
					won++;
				} else if (hrc == BOOKING_ESEAT_ALREADY_BOOKED && booking_error_detail_count(nullptr, "seats") > 0) {
					refused++; /* the error record is the thread's own: its details name the taken seats */
				}
			});
		for (auto &th : threads)
			th.join();
		for (int i = 0; i < buyers; i++) {
			if (!holds[i])
				continue;
			booking_payment *p = nullptr;
			booking::check(booking_pay(&p, bk.get(), &sessions[i].ctx, holds[i]->id, "order-1", "4242424242424242"));
			booking::payment paid(p);
			std::printf("buyer%d holds B2 B3 and paid %s; %d others were told SEAT_ALREADY_BOOKED\n", i, paid->id,
			            refused.load());
		}
		booking_check_report *report = nullptr;
		booking::check(booking_check(&report, bk.get()));
		const bool clean = report->count == 0;
		booking_check_report_free(report);
		rc = won == 1 && refused == buyers - 1 && clean ? 0 : 1;
	} catch (const booking::error &e) {
		std::fprintf(stderr, "%s (%d)\n", e.what(), int(e.code()));
	}
	unlink(paykey.c_str());
	unlink(priv.c_str());
	unlink(pub.c_str());
	rmdir(dir);
	return rc;
}
