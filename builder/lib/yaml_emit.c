#include <errno.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/yaml_emit.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return buf_append(data, buffer, size) == 0;
}

static void emit(struct pf_yaml *y, yaml_event_t *ev, int made)
{
	if (y->rc)
		return;
	if (!made) {
		y->rc = -ENOMEM;
		return;
	}
	/* yaml_emitter_emit frees the event, also on failure. */
	if (!yaml_emitter_emit(&y->emitter, ev))
		y->rc = y->emitter.error == YAML_MEMORY_ERROR ||
			y->emitter.error == YAML_WRITER_ERROR ? -ENOMEM :
									 -EINVAL;
}

void yaml_emit_begin(struct pf_yaml *y, struct pf_buf *out)
{
	yaml_event_t ev;

	y->out = out;
	y->rc = 0;
	y->ready = yaml_emitter_initialize(&y->emitter);
	if (!y->ready) {
		y->rc = -ENOMEM;
		return;
	}
	yaml_emitter_set_output(&y->emitter, write_handler, out);
	yaml_emitter_set_unicode(&y->emitter, 1);
	yaml_emitter_set_width(&y->emitter, -1);	/* never fold */
	yaml_emitter_set_indent(&y->emitter, 2);
	emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL,
							    NULL, 1));
}

int yaml_emit_end(struct pf_yaml *y)
{
	yaml_event_t ev;
	int rc;

	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(y, &ev, yaml_stream_end_event_initialize(&ev));
	if (y->ready && !y->rc && !yaml_emitter_flush(&y->emitter))
		y->rc = -ENOMEM;
	if (y->ready)
		yaml_emitter_delete(&y->emitter);
	y->ready = false;
	rc = y->rc;
	return rc;
}

void yaml_emit_map_open(struct pf_yaml *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_start_event_initialize(
			     &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

void yaml_emit_map_close(struct pf_yaml *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yaml_emit_seq_open(struct pf_yaml *y, bool flow)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_start_event_initialize(
			     &ev, NULL, NULL, 1,
			     flow ? YAML_FLOW_SEQUENCE_STYLE :
				    YAML_BLOCK_SEQUENCE_STYLE));
}

void yaml_emit_seq_close(struct pf_yaml *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void scalar(struct pf_yaml *y, const char *s, yaml_scalar_style_t st)
{
	yaml_event_t ev;

	if (!s) {
		y->rc = y->rc ? y->rc : -EINVAL;
		return;
	}
	/* plain_implicit for plain, quoted_implicit for the rest: no tags. */
	emit(y, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
						  (yaml_char_t *)s,
						  (int)strlen(s), 1, 1, st));
}

/* Plain only for what no YAML 1.1 resolver takes for a number, boolean,
 * null, date or merge key: a letter or '/' first, then a plain-safe set. */
static bool plain_safe(const char *s)
{
	static const char *const words[] = { "y", "n", "yes", "no", "on",
					     "off", "true", "false", "null" };

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '/'))
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_./+=@-", *p) &&
		    !(*p == ':' && p[1] && p[1] != ' '))
			return false;
	return true;
}

void yaml_emit_str(struct pf_yaml *y, const char *s)
{
	if (s && strchr(s, '\n'))
		scalar(y, s, YAML_LITERAL_SCALAR_STYLE);
	else if (s && plain_safe(s))
		scalar(y, s, YAML_PLAIN_SCALAR_STYLE);
	else
		scalar(y, s, YAML_SINGLE_QUOTED_SCALAR_STYLE);
}

void yaml_emit_quoted(struct pf_yaml *y, const char *s)
{
	scalar(y, s, YAML_SINGLE_QUOTED_SCALAR_STYLE);
}

void yaml_emit_plain(struct pf_yaml *y, const char *s)
{
	scalar(y, s, YAML_PLAIN_SCALAR_STYLE);
}

void yaml_emit_pair(struct pf_yaml *y, const char *key, const char *value)
{
	yaml_emit_str(y, key);
	yaml_emit_str(y, value);
}
