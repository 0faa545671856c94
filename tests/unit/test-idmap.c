/* Unit tests of idmap_format(), the text written to uid_map and gid_map. */
#include "config.h"

#include "idmap.h"
#include "tap.h"

#include <string.h>
#include <sys/types.h>

static void test_format_basic(void)
{
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	is_int(idmap_format(buf, sizeof(buf), 0, 1000, 1), 9, "idmap_format root to 1000 length");
	is_str(buf, "0 1000 1\n", "idmap_format root to 1000 text");

	is_int(idmap_format(buf, sizeof(buf), 1000, 1000, 1), 12, "idmap_format identity length");
	is_str(buf, "1000 1000 1\n", "idmap_format identity text");
}

static void test_format_large_ids(void)
{
	char buf[64];
	uid_t uid = (uid_t)-2;
	gid_t gid = (gid_t)2147483648u;

	/* 4294967294 is (uid_t)-2, which a signed format would print as "-2". */
	is_int(idmap_format(buf, sizeof(buf), uid, uid, 1), 24, "idmap_format uid 4294967294 length");
	is_str(buf, "4294967294 4294967294 1\n", "idmap_format uid 4294967294 text");

	is_int(idmap_format(buf, sizeof(buf), 0, gid, 1), 15, "idmap_format gid 2^31 length");
	is_str(buf, "0 2147483648 1\n", "idmap_format gid 2^31 text");

	is_int(idmap_format(buf, sizeof(buf), 0, 100000, 65536), 15, "idmap_format id range length");
	is_str(buf, "0 100000 65536\n", "idmap_format id range text");
}

static void test_format_buffer_size(void)
{
	char buf[16];

	/* "0 1000 1\n" is 9 bytes and needs 10 with the terminating NUL. */
	is_int(idmap_format(buf, 10, 0, 1000, 1), 9, "idmap_format exact fit");
	is_str(buf, "0 1000 1\n", "idmap_format exact fit text");
	is_int(idmap_format(buf, 9, 0, 1000, 1), -1, "idmap_format one byte short");
	is_int(idmap_format(buf, 1, 0, 1000, 1), -1, "idmap_format size 1");
	is_int(idmap_format(NULL, 0, 0, 1000, 1), -1, "idmap_format size 0");
}

int main(void)
{
	test_format_basic();
	test_format_large_ids();
	test_format_buffer_size();
	return done_testing();
}
