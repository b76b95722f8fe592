// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/lib/json.c: every string comes out as valid UTF-8
 * JSON, whatever bytes went in.  Exact outputs: a maximal ill-formed
 * subpart is one U+FFFD (what Python's bytes.decode("utf-8", "replace")
 * gives), valid characters are copied, control characters escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

/* json_write_string(in) as a malloc'ed C string (NULL on failure). */
static char *jstr(const char *in)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	json_write_string(f, in);
	fclose(f);
	return out;
}

/* Each case's expected output, with the quotes. */
#define CHECK_JSTR(in, want) do {                                          \
	char *__o = jstr(in);                                              \
	if (!__o || strcmp(__o, want)) {                                   \
		CHECK_FAILED("json_write_string(%s) = %s, want %s", #in,   \
			     __o ? __o : "(null)", want);                  \
		free(__o);                                                 \
		return TEST_FAIL;                                          \
	}                                                                  \
	free(__o);                                                         \
} while (0)

static int test_plain(void)
{
	CHECK_JSTR(NULL, "\"\"");
	CHECK_JSTR("", "\"\"");
	CHECK_JSTR("vfio_workload", "\"vfio_workload\"");
	CHECK_JSTR("a b~", "\"a b~\"");
	return TEST_PASS;
}

static int test_quotes_backslash(void)
{
	CHECK_JSTR("a\"b", "\"a\\\"b\"");
	CHECK_JSTR("c:\\x", "\"c:\\\\x\"");
	CHECK_JSTR("\\\"", "\"\\\\\\\"\"");
	CHECK_JSTR("a/b", "\"a/b\"");			/* '/' needs no escape */
	return TEST_PASS;
}

static int test_control_chars(void)
{
	CHECK_JSTR("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	CHECK_JSTR("\x01\x0b\x1b[31m\x1f", "\"\\u0001\\u000b\\u001b[31m\\u001f\"");
	CHECK_JSTR("\x7f", "\"\\u007f\"");		/* DEL */
	/* C1 controls are valid UTF-8, and CSI (U+009B) drives terminals. */
	CHECK_JSTR("\xc2\x80\xc2\x9b\xc2\x9f", "\"\\u0080\\u009b\\u009f\"");
	CHECK_JSTR("\xc2\xa0", "\"\xc2\xa0\"");	/* U+00A0 is no control */
	return TEST_PASS;
}

static int test_valid_multibyte(void)
{
	CHECK_JSTR("caf\xc3\xa9", "\"caf\xc3\xa9\"");			/* é */
	CHECK_JSTR("\xe2\x82\xac", "\"\xe2\x82\xac\"");			/* € */
	CHECK_JSTR("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");		/* U+1F600 */
	/* The edges of table 3-7. */
	CHECK_JSTR("\xdf\xbf", "\"\xdf\xbf\"");				/* U+07FF */
	CHECK_JSTR("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");			/* U+0800 */
	CHECK_JSTR("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");			/* U+D7FF */
	CHECK_JSTR("\xee\x80\x80", "\"\xee\x80\x80\"");			/* U+E000 */
	CHECK_JSTR("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");			/* U+FFFD */
	CHECK_JSTR("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");		/* U+10000 */
	CHECK_JSTR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");		/* U+10FFFF */
	return TEST_PASS;
}

static int test_invalid_bytes(void)
{
	CHECK_JSTR("\x80", "\"\\ufffd\"");		/* a lone continuation */
	CHECK_JSTR("\x80\xbf", "\"\\ufffd\\ufffd\"");
	CHECK_JSTR("a\xff" "b", "\"a\\ufffdb\"");
	CHECK_JSTR("\xc0", "\"\\ufffd\"");		/* never in UTF-8 */
	CHECK_JSTR("\xf5\x80", "\"\\ufffd\\ufffd\"");
	/* Overlong: "/" as 2, 3, 4 bytes, each byte its own subpart. */
	CHECK_JSTR("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	CHECK_JSTR("\xc1\xbf", "\"\\ufffd\\ufffd\"");
	CHECK_JSTR("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_JSTR("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* A surrogate (U+D800) and past U+10FFFF. */
	CHECK_JSTR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_JSTR("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Invalid bytes that look like escapes pass as data, escaped. */
	CHECK_JSTR("\xff\"\\", "\"\\ufffd\\\"\\\\\"");
	return TEST_PASS;
}

static int test_truncated_sequences(void)
{
	/* A cut sequence is one subpart, whatever its length. */
	CHECK_JSTR("\xe2\x82", "\"\\ufffd\"");
	CHECK_JSTR("\xe2\x82" "A", "\"\\ufffdA\"");
	CHECK_JSTR("\xf0\x9f\x98", "\"\\ufffd\"");
	CHECK_JSTR("\xf0\x9f\x98" "A", "\"\\ufffdA\"");
	CHECK_JSTR("\xe0\xa0", "\"\\ufffd\"");
	CHECK_JSTR("\xf4\x8f\xbf", "\"\\ufffd\"");
	CHECK_JSTR("\xe2\x82\xe2\x82\xac", "\"\\ufffd\xe2\x82\xac\"");
	/* What the kernel does to comm: 15 bytes, the last "€" cut. */
	CHECK_JSTR("vfio_w\xc3\xb6rker\xe2\x82", "\"vfio_w\xc3\xb6rker\\ufffd\"");
	return TEST_PASS;
}

/* The writer as the tools use it: keys are strings too. */
static int test_object_line(void)
{
	char *out = NULL;
	size_t len = 0;
	struct json j;
	FILE *f = open_memstream(&out, &len);

	CHECK(f);
	json_init(&j, f);
	json_obj_open(&j, NULL);
	json_str(&j, "comm", "x\xe2\x82");
	json_u64(&j, "pid", 42);
	json_arr_open(&j, "k\xff");
	json_str(&j, NULL, "\t");
	json_null(&j, NULL);
	json_arr_close(&j);
	json_obj_close(&j);
	fclose(f);
	if (strcmp(out, "{\"comm\":\"x\\ufffd\",\"pid\":42,\"k\\ufffd\":[\"\\t\",null]}\n")) {
		CHECK_FAILED("got %s", out);
		free(out);
		return TEST_FAIL;
	}
	free(out);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_plain),
	TEST(test_quotes_backslash),
	TEST(test_control_chars),
	TEST(test_valid_multibyte),
	TEST(test_invalid_bytes),
	TEST(test_truncated_sequences),
	TEST(test_object_line),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("host/json", tests, argc, argv);
}
