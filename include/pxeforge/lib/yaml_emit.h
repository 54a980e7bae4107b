/* YAML output through libyaml's emitter: block style, no width limit,
 * scalars quoted whenever a YAML 1.1 reader could take them for anything
 * but a string. Errors are sticky: the first one is returned by
 * yaml_emit_end, so callers emit without checking every call. */
#ifndef PXEFORGE_YAML_EMIT_H
#define PXEFORGE_YAML_EMIT_H

#include <stdbool.h>
#include <yaml.h>

#include "pxeforge/lib/buf.h"

struct pf_yaml {
	yaml_emitter_t emitter;
	struct pf_buf *out;
	int rc;			/* first error: -ENOMEM or -EINVAL */
	bool ready;		/* the emitter was initialised */
};

/* Starts one document appended to out. */
void yaml_emit_begin(struct pf_yaml *y, struct pf_buf *out);
/* Ends the document and releases the emitter: 0 or the first error. */
int yaml_emit_end(struct pf_yaml *y);

void yaml_emit_map_open(struct pf_yaml *y);
void yaml_emit_map_close(struct pf_yaml *y);
/* flow: [a, b] on one line instead of one "- item" per line */
void yaml_emit_seq_open(struct pf_yaml *y, bool flow);
void yaml_emit_seq_close(struct pf_yaml *y);
/* A string: plain when unambiguous, a literal block when it spans lines,
 * else single-quoted. */
void yaml_emit_str(struct pf_yaml *y, const char *s);
/* A string always single-quoted: permissions: '0600'. */
void yaml_emit_quoted(struct pf_yaml *y, const char *s);
/* A plain scalar the reader should resolve (integers, booleans). */
void yaml_emit_plain(struct pf_yaml *y, const char *s);
/* key: value, both strings. */
void yaml_emit_pair(struct pf_yaml *y, const char *key, const char *value);

#endif
