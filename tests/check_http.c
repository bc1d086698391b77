/*
 * check_http.c -- unit tests for the HTTP child's parts that need no
 * socket: the reply buffer (HTML escaping, JSON errors), the constant-time
 * token comparison, the path check, http.listen and the token file.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "http-int.h"

START_TEST(test_reply_html)
{
	struct http_reply	r;

	http_reply_init(&r);
	ck_assert_int_eq(r.status, 200);
	http_reply_printf(&r, "<p>%d ", 7);
	http_reply_html(&r, "<script>alert('x') & \"y\"</script>");
	http_reply_html(&r, NULL);
	ck_assert_str_eq(r.body, "<p>7 &lt;script&gt;alert(&#39;x&#39;) "
	    "&amp; &quot;y&quot;&lt;/script&gt;");
	ck_assert_uint_eq(r.len, strlen(r.body));
	http_reply_free(&r);
}
END_TEST

START_TEST(test_reply_grows)
{
	struct http_reply	r;
	size_t			i;

	http_reply_init(&r);
	for (i = 0; i < 100000; i++)
		http_reply_add(&r, "ab", 2);
	ck_assert_uint_eq(r.len, 200000);
	ck_assert_int_eq(r.body[199999], 'b');
	ck_assert_int_eq(r.body[200000], '\0');
	http_reply_reset(&r);
	ck_assert_uint_eq(r.len, 0);
	http_reply_free(&r);
}
END_TEST

START_TEST(test_reply_error)
{
	struct http_reply	 r;
	json_t			*doc;

	http_reply_init(&r);
	http_reply_printf(&r, "junk");
	http_reply_error(&r, 404, "unknown job '%s'", "a\"b");
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(r.content_type, "application/json");
	doc = json_loads(r.body, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    doc, "error"), "status")), 404);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    doc, "error"), "message")), "unknown job 'a\"b'");
	json_decref(doc);
	http_reply_header(&r, "Allow", "GET");
	ck_assert_int_eq(r.nheaders, 1);
	http_reply_free(&r);
}
END_TEST

START_TEST(test_token_equal)
{
	const char	*want = "s3cret-token";
	size_t		 n = strlen(want), i;
	char		 buf[64];

	ck_assert_int_eq(http_token_equal(want, n, want, n), 1);
	ck_assert_int_eq(http_token_equal(want, n, "", 0), 0);
	ck_assert_int_eq(http_token_equal("", 0, "", 0), 0);
	ck_assert_int_eq(http_token_equal(want, n, want, n - 1), 0);
	ck_assert_int_eq(http_token_equal(want, n, "s3cret-token1", n + 1),
	    0);
	/* The token repeated: a cyclic read must not make it match. */
	ck_assert_int_eq(http_token_equal("ab", 2, "abab", 4), 0);
	/* Any one byte wrong, anywhere. */
	for (i = 0; i < n; i++) {
		memcpy(buf, want, n);
		buf[i] ^= 1;
		ck_assert_int_eq(http_token_equal(want, n, buf, n), 0);
	}
}
END_TEST

/* Nanoseconds for `iters` comparisons of given against want. */
static double
time_once(const char *want, size_t n, const char *given, int iters)
{
	struct timespec	a, b;
	volatile int	sink = 0;
	int		i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < iters; i++)
		sink += http_token_equal(want, n, given, n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sink;
	return (double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec);
}

/*
 * A guess wrong in its first byte takes as long as one wrong only in its
 * last.  An early exit (memcmp, strcmp) would make the first about 4096
 * times faster with a token this long; the bound of 3 leaves room for a
 * busy machine, the rounds are interleaved and the best of each kept (the
 * machine's noise only adds).
 */
START_TEST(test_token_constant_time)
{
	char	want[4097], first[4097], last[4097];
	double	tf = 1e30, tl = 1e30, t, ratio;
	int	round;

	memset(want, 'k', 4096);
	want[4096] = '\0';
	memcpy(first, want, sizeof want);
	memcpy(last, want, sizeof want);
	first[0] = 'x';
	last[4095] = 'x';
	for (round = 0; round < 61; round++) {
		if ((t = time_once(want, 4096, first, 500)) < tf)
			tf = t;
		if ((t = time_once(want, 4096, last, 500)) < tl)
			tl = t;
	}
	ratio = tf > tl ? tf / tl : tl / tf;
	ck_assert_msg(ratio < 3, "first byte wrong: %.0f ns, last byte "
	    "wrong: %.0f ns", tf, tl);
}
END_TEST

START_TEST(test_path_safe)
{
	static const char *const ok[] = { "/", "/api/v1/runs", "/ui/",
	    "/ui/job/flights_daily", "/ui/a.b/c..d/...", "/metrics", NULL };
	static const char *const bad[] = { "", "ui", "/..", "/../etc/passwd",
	    "/ui/../../etc/passwd", "/ui/./x", "/ui//x", "//etc/passwd",
	    "/ui/..", "/ui/x\\..\\y", "/ui/%2e%2e/x", "/ui/a\nb",
	    "/ui/..%2f..%2fetc/passwd", "/.", NULL };
	int	i;

	for (i = 0; ok[i] != NULL; i++)
		ck_assert_msg(http_path_safe(ok[i]), "refused %s", ok[i]);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(!http_path_safe(bad[i]), "allowed %s", bad[i]);
}
END_TEST

/* A loopback listener answers only requests that name loopback: a page
 * whose name was re-pointed at 127.0.0.1 (DNS rebinding) is refused. */
START_TEST(test_host_loopback)
{
	static const char *const ok[] = { "localhost", "LocalHost:8642",
	    "127.0.0.1", "127.0.0.1:8642", "127.1.2.3:80", "[::1]",
	    "[::1]:8642", NULL };
	static const char *const bad[] = { "evil.example", "evil.example:8642",
	    "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.1",
	    "128.0.0.1:80", "[::2]:80", "[::1", "localhost:80x", "", ":80",
	    "localhost:80:80", "[::1]x", "127.0.0.1 ", NULL };
	int	i;

	ck_assert(http_host_loopback(NULL));	/* HTTP/1.0: no Host */
	for (i = 0; ok[i] != NULL; i++)
		ck_assert_msg(http_host_loopback(ok[i]), "refused %s", ok[i]);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(!http_host_loopback(bad[i]), "allowed %s",
		    bad[i]);
}
END_TEST

START_TEST(test_listen_addr)
{
	static const char *const ok[] = { "127.0.0.1:8642", "[::1]:8642",
	    "0.0.0.0:1", "8642", "10.1.2.3:65535", "[::]:80", NULL };
	static const char *const bad[] = { "localhost:80", "127.0.0.1:0",
	    "127.0.0.1:65536", "[::1]8642", "::1:80", "127.0.0.1:", ":80",
	    "1.2.3.4:80x", "[]:80", "127.0.0.1:-1", "127.0.0.1: 80", "",
	    "[127.0.0.1]:80", "1.2.3:80", "[::1]:99999999999999999999", NULL };
	struct sockaddr_storage	 ss;
	unsigned int		 len;
	char			*cause;
	int			 i;

	for (i = 0; ok[i] != NULL; i++) {
		cause = NULL;
		ck_assert_msg(config_http_addr(ok[i], &ss, &len, &cause) == 0,
		    "refused %s: %s", ok[i], cause);
	}
	ck_assert_int_eq(config_http_addr("8642", &ss, &len, &cause), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr),
	    INADDR_LOOPBACK);
	ck_assert_int_eq(config_http_addr("[::1]:80", &ss, &len, &cause), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 80);
	for (i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		ck_assert_msg(config_http_addr(bad[i], &ss, &len, &cause) == -1,
		    "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
}
END_TEST

START_TEST(test_token_file)
{
	char	 dir[] = "/tmp/check_http.XXXXXX", path[64], *tok, *cause;
	FILE	*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/token", dir);
	cause = NULL;
	ck_assert_ptr_null(config_http_token(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "cannot read"));
	free(cause);
	f = fopen(path, "w");
	fputs("\n  s3cret \t\r\nsecond line\n", f);
	fclose(f);
	tok = config_http_token(path, &cause);
	ck_assert_str_eq(tok, "s3cret");
	free(tok);
	f = fopen(path, "w");
	fputs(" \n\t\n", f);
	fclose(f);
	cause = NULL;
	ck_assert_ptr_null(config_http_token(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "holds no token"));
	free(cause);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reply_html);
	tcase_add_test(tc, test_host_loopback);
	tcase_add_test(tc, test_reply_grows);
	tcase_add_test(tc, test_reply_error);
	tcase_add_test(tc, test_token_equal);
	tcase_add_test(tc, test_token_constant_time);
	tcase_add_test(tc, test_path_safe);
	tcase_add_test(tc, test_listen_addr);
	tcase_add_test(tc, test_token_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
