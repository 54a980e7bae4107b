/* bench/package_rss.c: the package side of build alone, for
 * bench/package_rss.sh: `package_rss tree|stream PROFILE` parses,
 * validates and plans PROFILE, then renders every file either into one
 * tree held in memory (package_tree, as build did) or chunk by chunk
 * into a sink that counts and drops each (package_stream). Prints
 * "files bytes". Peak RSS is the caller's to measure (/usr/bin/time). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/package/package.h"

struct counts {
	size_t files;
	uint64_t bytes;
};

static void count(struct counts *c, const struct pf_outtree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		c->files++;
		c->bytes += t->files[i].len;
	}
}

static int drop(struct pf_outtree *chunk, void *ctx, char **failed)
{
	(void)failed;
	count(ctx, chunk);
	return 0;
}

int main(int argc, char **argv)
{
	struct counts c = { 0, 0 };
	struct pf_outtree tree;
	struct pf_profile *p;
	struct pf_plan *plan;
	char *failed = NULL;
	int rc, code;

	if (argc != 3 || (strcmp(argv[1], "tree") && strcmp(argv[1], "stream"))) {
		fprintf(stderr, "usage: package_rss tree|stream PROFILE\n");
		return 2;
	}
	code = cli_load(argv[2], &p, &plan);
	if (code)
		return code;
	outtree_init(&tree);
	if (!strcmp(argv[1], "tree")) {
		rc = package_tree(plan, &tree, &failed);
		count(&c, &tree);
	} else {
		rc = package_stream(plan, NULL, drop, &c, &failed);
	}
	if (rc)
		fprintf(stderr, "package_rss: %s: %s\n", failed ? failed : argv[2],
			strerror(-rc));
	else
		printf("%zu %" PRIu64 "\n", c.files, c.bytes);
	outtree_release(&tree);
	cli_unload(p, plan);
	return rc ? 3 : 0;
}
