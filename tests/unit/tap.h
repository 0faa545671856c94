/* Minimal TAP (Test Anything Protocol, version 12) producer for C tests.
 *
 * Each check prints "ok N - NAME" or "not ok N - NAME" to stdout and returns
 * whether it passed. Names are printf formats. A '#' in a name is written
 * "\#" so that the TAP consumer does not read it as a directive, and a
 * newline becomes a space. Diagnostics are "# ..." lines on stdout.
 *
 * End main() with "return done_testing();": it prints the plan "1..N" and
 * returns 1 when a check failed outside a TODO block, otherwise 0.
 *
 * Checks made between todo_start() and todo_end() carry "# TODO REASON".
 * They mark a known bug: a failure there does not change the exit status,
 * and the consumer reports an unexpected pass.
 */
#ifndef LAUNCH_TAP_H
#define LAUNCH_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAP_PRINTF(format_index, first_arg) \
	__attribute__((format(printf, format_index, first_arg)))

static int tap_test_count;
static int tap_failure_count;
static const char *tap_todo_reason;

/* Print FORMAT as a test name, escaping '#' and replacing newlines. */
static inline void tap_print_name(const char *format, va_list ap)
{
	char name[512];

	vsnprintf(name, sizeof(name), format, ap);
	for (const char *c = name; *c; c++) {
		if (*c == '#')
			fputs("\\#", stdout);
		else if (*c == '\n' || *c == '\r')
			putchar(' ');
		else
			putchar(*c);
	}
}

/* Print and count one result line, then return PASSED. */
static inline bool tap_vresult(bool passed, const char *format, va_list ap)
{
	tap_test_count++;
	if (!passed && !tap_todo_reason)
		tap_failure_count++;
	printf("%sok %d - ", passed ? "" : "not ", tap_test_count);
	tap_print_name(format, ap);
	if (tap_todo_reason)
		printf(" # TODO %s", tap_todo_reason);
	putchar('\n');
	fflush(stdout);
	return passed;
}

/* Print a diagnostic line "# MESSAGE". */
static inline TAP_PRINTF(1, 2) void diag(const char *format, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Print "# LABEL: VALUE" with VALUE in double quotes and C escapes, so that
 * newlines, control bytes and trailing spaces are visible. */
static inline void tap_diag_string(const char *label, const char *value)
{
	printf("# %s: ", label);
	if (!value) {
		puts("NULL");
		return;
	}
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else if (*c == '\r')
			fputs("\\r", stdout);
		else if (*c == '\t')
			fputs("\\t", stdout);
		else if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			printf("\\x%02x", *c);
		else
			putchar(*c);
	}
	puts("\"");
}

/* Pass when CONDITION is true. */
static inline TAP_PRINTF(2, 3) bool ok(bool condition, const char *format, ...)
{
	va_list ap;
	bool passed;

	va_start(ap, format);
	passed = tap_vresult(condition, format, ap);
	va_end(ap);
	return passed;
}

/* Pass when GOT equals EXPECTED. Print both values on failure. */
static inline TAP_PRINTF(3, 4) bool is_int(long long got, long long expected,
					   const char *format, ...)
{
	va_list ap;
	bool passed;

	va_start(ap, format);
	passed = tap_vresult(got == expected, format, ap);
	va_end(ap);
	if (!passed) {
		diag("got: %lld", got);
		diag("expected: %lld", expected);
	}
	return passed;
}

/* Pass when the strings GOT and EXPECTED are equal. Two NULLs are equal, and
 * NULL differs from every string. Print both values on failure. */
static inline TAP_PRINTF(3, 4) bool is_str(const char *got, const char *expected,
					   const char *format, ...)
{
	va_list ap;
	bool equal;
	bool passed;

	if (!got || !expected)
		equal = got == expected;
	else
		equal = strcmp(got, expected) == 0;
	va_start(ap, format);
	passed = tap_vresult(equal, format, ap);
	va_end(ap);
	if (!passed) {
		tap_diag_string("got", got);
		tap_diag_string("expected", expected);
	}
	return passed;
}

/* Record COUNT skipped checks, each "ok N # SKIP REASON". */
static inline void skip(int count, const char *reason)
{
	for (int i = 0; i < count; i++) {
		tap_test_count++;
		printf("ok %d # SKIP %s\n", tap_test_count, reason);
	}
	fflush(stdout);
}

/* Mark the following checks as a known bug described by REASON. */
static inline void todo_start(const char *reason)
{
	tap_todo_reason = reason;
}

static inline void todo_end(void)
{
	tap_todo_reason = NULL;
}

/* Stop the whole test program, for a failed setup step that later checks
 * depend on. The consumer reports the program as an error. */
static inline TAP_PRINTF(1, 2) _Noreturn void bail_out(const char *format, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

/* Print the plan and return the exit status of the test program. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_test_count);
	if (tap_failure_count)
		diag("%d of %d checks failed", tap_failure_count, tap_test_count);
	fflush(stdout);
	return tap_failure_count ? 1 : 0;
}

#endif
