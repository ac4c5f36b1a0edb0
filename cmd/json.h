/*
 * json.h - JSON strings for the report and the timeline: escaped, with any
 * byte that is not valid UTF-8 written as U+FFFD, so the result is valid
 * whatever bytes a name or command holds.
 */
#ifndef CMD_JSON_H
#define CMD_JSON_H

#include <stdio.h>

/* Writes str as a JSON string, or null for NULL. */
void json_str(FILE *f, const char *str);
/* The same, with '<' escaped too, for JSON inside an HTML <script>: no
 * string can end the script early. */
void json_str_html(FILE *f, const char *str);

#endif
