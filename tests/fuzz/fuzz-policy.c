/* libFuzzer target for the site policy parser. Each input is parsed as a
 * policy file of SIZE bytes with no terminating NUL, as policy_parse_text
 * allows, into a fresh policy that is then freed. Build it with
 * -fsanitize=fuzzer,address so that out-of-bounds accesses and leaks are
 * reported. A parse error is an ordinary outcome, not a finding. */
#include "config.h"

#include "policy.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy policy;
	struct lerror err;

	lerror_clear(&err);
	policy_init(&policy);
	(void)policy_parse_text(&policy, "fuzz", (const char *)data, size, &err);
	policy_free(&policy);
	return 0;
}
