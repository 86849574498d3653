// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin answers' JSON writer (src/daemon/jsonw) on jansson: the text
 * it writes for every kind of value, what it does with what jansson
 * cannot hold (u64 past INT64_MAX, NaN, bytes that are not UTF-8 in a
 * value or a key, control characters), and its structure errors.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/jsonw.h"

/* w finished: its text must be want, whole. */
static void jw_is(struct jsonw *w, const char *want)
{
	assert_int_equal(jsonw_finish(w), 0);
	assert_string_equal(w->buf, want);
	assert_int_equal(w->len, strlen(want));
}

static void test_values(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_u64(&w, "u", 18446744073709551615ull);
	jsonw_u64(&w, "u_max", INT64_MAX);
	jsonw_i64(&w, "i", INT64_MIN);
	jsonw_bool(&w, "t", true);
	jsonw_bool(&w, "f", false);
	jsonw_null(&w, "n");
	jsonw_str(&w, "s", NULL);
	jsonw_str_opt(&w, "o1", "");
	jsonw_str_opt(&w, "o2", "x");
	jsonw_strf(&w, "sf", "%d-%s", 7, "y");
	jsonw_arr_open(&w, "a");
	jsonw_u64(&w, NULL, 1);
	jsonw_obj_open(&w, NULL);
	jsonw_obj_close(&w);
	jsonw_arr_open(&w, NULL);
	jsonw_arr_close(&w);
	jsonw_arr_close(&w);
	jsonw_obj_close(&w);
	/* A u64 past INT64_MAX saturates (jansson's integers are signed). */
	jw_is(&w, "{\"u\":9223372036854775807,\"u_max\":9223372036854775807,"
		  "\"i\":-9223372036854775808,\"t\":true,\"f\":false,"
		  "\"n\":null,\"s\":\"\",\"o1\":null,\"o2\":\"x\","
		  "\"sf\":\"7-y\",\"a\":[1,{},[]]}");
	jsonw_free(&w);
}

/* Reals read as "%.6g" wrote them; jansson's own forms only where an
 * exponent is written. */
static void test_doubles(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_arr_open(&w, NULL);
	jsonw_double(&w, NULL, 0.0);
	jsonw_double(&w, NULL, 3.0);
	jsonw_double(&w, NULL, -2.5);
	jsonw_double(&w, NULL, 0.1);
	jsonw_double(&w, NULL, 1.0 / 3.0);
	jsonw_double(&w, NULL, 123456.7); /* "%.6g": 123457 */
	jsonw_double(&w, NULL, 999999.0);
	jsonw_double(&w, NULL, 1234567.0);
	jsonw_double(&w, NULL, 1.5e-7);
	jsonw_double(&w, NULL, NAN);
	jsonw_double(&w, NULL, INFINITY);
	jsonw_double(&w, NULL, -INFINITY);
	jsonw_arr_close(&w);
	jw_is(&w, "[0,3,-2.5,0.1,0.333333,123457,999999,1.23457e6,1.5e-7,"
		  "null,null,null]");
	jsonw_free(&w);
}

/* Control characters escaped, '"' and '\' too; DEL and valid UTF-8 as
 * they are. */
static void test_escapes(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_str(&w, "k\n", "a\"b\\c\n\t\x01\x1f\x7f\xc3\xa9/");
	jsonw_obj_close(&w);
	jw_is(&w,
	      "{\"k\\n\":\"a\\\"b\\\\c\\n\\t\\u0001\\u001F\x7f\xc3\xa9/\"}");
	assert_null(memchr(w.buf, '\n', w.len));
	jsonw_free(&w);
}

/* A name from the network that is not UTF-8 never costs the answer: each
 * bad byte is U+FFFD, in a value and in a key. */
static void test_not_utf8(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_str(&w, "name",
		  "n\xff\xfe"
		  "1");
	jsonw_str(&w, "over", "\xc0\xaf");    /* an overlong '/' */
	jsonw_str(&w, "cut", "ab\xe2\x82");   /* a sequence cut short */
	jsonw_str(&w, "sur", "\xed\xa0\x80"); /* a surrogate */
	jsonw_u64(&w, "k\xff", 1);
	jsonw_bool(&w, "after", true);
	jsonw_obj_close(&w);
	jw_is(&w, "{\"name\":\"n\xef\xbf\xbd\xef\xbf\xbd"
		  "1\",\"over\":\"\xef\xbf\xbd\xef\xbf\xbd\","
		  "\"cut\":\"ab\xef\xbf\xbd\xef\xbf\xbd\","
		  "\"sur\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
		  "\"k\xef\xbf\xbd\":1,\"after\":true}");
	jsonw_free(&w);
}

static void test_structure_errors(void **state)
{
	struct jsonw w;
	int i;

	(void)state;
	jsonw_init(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_u64(&w, NULL, 1); /* a value without a key in an object */
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* Sticky: later calls do nothing. */
	jsonw_obj_close(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);

	jsonw_reset(&w);
	jsonw_arr_open(&w, NULL);
	jsonw_u64(&w, "k", 1); /* a key in an array */
	assert_int_equal(jsonw_finish(&w), -EINVAL);

	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_arr_close(&w); /* not what is open */
	assert_int_equal(jsonw_finish(&w), -EINVAL);

	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	assert_int_equal(jsonw_finish(&w), -EINVAL); /* left open */

	jsonw_reset(&w);
	jsonw_u64(&w, NULL, 1);
	jsonw_u64(&w, NULL, 2); /* a second value at the top */
	assert_int_equal(jsonw_finish(&w), -EINVAL);

	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_u64(&w, "k", 1);
	jsonw_u64(&w, "k", 2); /* jansson would keep one of them only */
	jsonw_obj_close(&w);
	assert_int_equal(jsonw_finish(&w), -EEXIST);

	jsonw_reset(&w);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_open(&w, NULL);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_close(&w);
	assert_int_equal(jsonw_finish(&w), 0);
	jsonw_reset(&w);
	for (i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_arr_open(&w, NULL);
	assert_int_equal(jsonw_finish(&w), -EINVAL);

	/* reset clears the error; nothing written is "". */
	jsonw_reset(&w);
	jw_is(&w, "");
	jsonw_reset(&w);
	jsonw_str(&w, NULL, "top");
	jw_is(&w, "\"top\"");
	/* Finished twice: the same text; a value after it is an error. */
	jw_is(&w, "\"top\"");
	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	jsonw_obj_close(&w);
	jw_is(&w, "{}");
	jsonw_obj_open(&w, NULL);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_structure_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
