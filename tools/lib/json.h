/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer: the tools print one JSON object per
 * interval, on one line (JSON Lines), so scripts can read them as they come.
 *
 *   struct json j;
 *   json_init(&j, stdout);
 *   json_obj_open(&j, NULL);
 *   json_u64(&j, "maps", 12);
 *   json_arr_open(&j, "rows"); ... json_arr_close(&j);
 *   json_obj_close(&j);          // prints the newline at depth 0
 *
 * key is NULL inside arrays.  Keys and strings may hold any bytes (comm
 * is whatever a process set): they come out as valid UTF-8 JSON, see
 * json_write_string().
 */
#ifndef __JSON_H
#define __JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_s64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_str(struct json *j, const char *key, const char *s);
void json_null(struct json *j, const char *key);

/*
 * Write s as a JSON string literal, quotes included, in valid UTF-8: valid
 * characters copied, each maximal ill-formed subpart as \ufffd, control
 * characters (C0, DEL, C1) escaped.  NULL writes "".
 */
void json_write_string(FILE *f, const char *s);

#endif /* __JSON_H */
