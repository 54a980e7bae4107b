#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <yaml.h>

#include "pxeforge/profile/node.h"

/* Profiles are small; a bound keeps a wrong path (a disk image) from
 * being read into memory. */
#define DOC_MAX_BYTES (16u << 20)
/* Deeper nesting than any profile needs; keeps recursion bounded. */
#define DOC_MAX_DEPTH 64

struct loader {
	yaml_parser_t parser;
	struct pf_doc *doc;
	struct pf_diag *d;
};

static void node_free(struct pf_node *n)
{
	if (!n)
		return;
	free(n->scalar);
	for (size_t i = 0; i < n->n && n->items; i++)
		node_free(n->items[i]);
	for (size_t i = 0; i < n->n && n->pairs; i++) {
		node_free(n->pairs[i].key);
		node_free(n->pairs[i].value);
	}
	free(n->items);
	free(n->pairs);
	free(n);
}

void doc_free(struct pf_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

static struct pf_mark mark_of(const struct loader *L, yaml_mark_t m)
{
	return (struct pf_mark){ L->doc->file, (unsigned)m.line + 1,
				 (unsigned)m.column + 1 };
}

static int parser_error(struct loader *L)
{
	const yaml_parser_t *p = &L->parser;
	struct pf_mark at = mark_of(L, p->problem_mark);

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->context)
		diag_error(L->d, &at, "invalid YAML: %s %s (line %zu)",
			   p->problem ? p->problem : "syntax error",
			   p->context, p->context_mark.line + 1);
	else
		diag_error(L->d, &at, "invalid YAML: %s",
			   p->problem ? p->problem : "syntax error");
	return -EINVAL;
}

static int next_event(struct loader *L, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&L->parser, ev))
		return parser_error(L);
	return 0;
}

static int parse_node(struct loader *L, yaml_event_t *ev, unsigned depth,
		      struct pf_node **out);

static int push_item(struct pf_node *seq, struct pf_node *item)
{
	struct pf_node **v = realloc(seq->items, (seq->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	seq->items = v;
	seq->items[seq->n++] = item;
	return 0;
}

static int push_pair(struct loader *L, struct pf_node *map,
		     struct pf_node *key, struct pf_node *value)
{
	struct pf_node_pair *v;

	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->pairs[i].key->scalar, key->scalar) == 0) {
			char first[4096];

			mark_format(&map->pairs[i].key->mark, first,
				    sizeof(first));
			diag_error(L->d, &key->mark,
				   "duplicate key '%s' (first at %s)",
				   key->scalar, first);
			return -EINVAL;
		}
	}
	v = realloc(map->pairs, (map->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	map->pairs = v;
	map->pairs[map->n].key = key;
	map->pairs[map->n].value = value;
	map->n++;
	return 0;
}

static int parse_children(struct loader *L, struct pf_node *n,
			  unsigned depth)
{
	yaml_event_type_t end = n->kind == PF_NODE_SEQ ? YAML_SEQUENCE_END_EVENT
						       : YAML_MAPPING_END_EVENT;
	struct pf_node *key = NULL, *child = NULL;
	yaml_event_t ev;
	int rc = 0, bad = 0;

	for (;;) {
		rc = next_event(L, &ev);
		if (rc)
			goto clean;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			break;
		}
		rc = parse_node(L, &ev, depth + 1, &child);
		yaml_event_delete(&ev);
		if (rc)
			goto clean;
		if (n->kind == PF_NODE_SEQ) {
			rc = push_item(n, child);
			if (rc)
				goto clean;
			child = NULL;
			continue;
		}
		if (!key) {
			key = child;
			child = NULL;
			if (key->kind != PF_NODE_SCALAR) {
				diag_error(L->d, &key->mark,
					   "mapping keys must be strings, not %s",
					   node_kind_name(key));
				rc = -EINVAL;
				goto clean;
			}
			continue;
		}
		rc = push_pair(L, n, key, child);
		if (rc == -EINVAL) {
			/* keep reading so later problems are reported too */
			bad = rc;
			node_free(key);
			node_free(child);
		} else if (rc) {
			goto clean;
		}
		key = child = NULL;
	}
	rc = bad;
clean:
	node_free(key);
	node_free(child);
	return rc;
}

static int parse_node(struct loader *L, yaml_event_t *ev, unsigned depth,
		      struct pf_node **out)
{
	struct pf_node *n;
	int rc;

	*out = NULL;
	if (ev->type == YAML_ALIAS_EVENT) {
		struct pf_mark at = mark_of(L, ev->start_mark);

		diag_error(L->d, &at, "YAML aliases are not supported in profiles");
		return -EINVAL;
	}
	if (depth > DOC_MAX_DEPTH) {
		struct pf_mark at = mark_of(L, ev->start_mark);

		diag_error(L->d, &at, "nesting deeper than %d levels",
			   DOC_MAX_DEPTH);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mark = mark_of(L, ev->start_mark);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = PF_NODE_SCALAR;
		n->scalar = malloc(ev->data.scalar.length + 1);
		if (!n->scalar) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(n->scalar, ev->data.scalar.value, ev->data.scalar.length);
		n->scalar[ev->data.scalar.length] = '\0';
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = PF_NODE_SEQ;
		rc = parse_children(L, n, depth);
		if (rc)
			goto fail;
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = PF_NODE_MAP;
		rc = parse_children(L, n, depth);
		if (rc)
			goto fail;
		break;
	default:
		rc = -EINVAL;
		diag_error(L->d, &n->mark, "invalid YAML: unexpected event");
		goto fail;
	}
	*out = n;
	return 0;
fail:
	node_free(n);
	return rc;
}

static int parse_stream(struct loader *L)
{
	yaml_event_t ev;
	bool in_doc = false, done = false;
	int rc;

	while (!done) {
		rc = next_event(L, &ev);
		if (rc)
			return rc;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (in_doc) {
				struct pf_mark at = mark_of(L, ev.start_mark);

				diag_error(L->d, &at,
					   "more than one YAML document; a profile is one document");
				yaml_event_delete(&ev);
				return -EINVAL;
			}
			in_doc = true;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_ALIAS_EVENT:
			rc = parse_node(L, &ev, 0, &L->doc->root);
			if (rc) {
				yaml_event_delete(&ev);
				return rc;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	return 0;
}

static int read_file(const char *path, struct pf_diag *d, char **out,
		     size_t *len)
{
	struct pf_mark at = { path, 0, 0 };
	char *data = NULL;
	size_t n = 0;
	struct stat st;
	FILE *fp;
	int rc = 0;

	fp = fopen(path, "rb");
	if (!fp) {
		rc = -errno;
		diag_error(d, &at, "cannot read: %s", strerror(errno));
		return rc;
	}
	/* fopen opens a directory; its read would only say EISDIR as EIO */
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		diag_error(d, &at, "cannot read: %s", strerror(EISDIR));
		goto clean;
	}
	data = malloc(DOC_MAX_BYTES + 1);
	if (!data) {
		rc = -ENOMEM;
		goto clean;
	}
	errno = 0;
	n = fread(data, 1, DOC_MAX_BYTES + 1, fp);
	if (ferror(fp)) {
		rc = errno ? -errno : -EIO;
		diag_error(d, &at, "cannot read: %s", strerror(-rc));
		goto clean;
	}
	if (n > DOC_MAX_BYTES) {
		rc = -EFBIG;
		diag_error(d, &at, "file is larger than %u MiB; not a profile",
			   DOC_MAX_BYTES >> 20);
		goto clean;
	}
	if (memchr(data, '\0', n)) {
		rc = -EINVAL;
		diag_error(d, &at, "file contains NUL bytes; not a text profile");
		goto clean;
	}
	*out = data;
	*len = n;
	data = NULL;
clean:
	free(data);
	fclose(fp);
	return rc;
}

/* jansson is the judge of JSON syntax (YAML would accept more). */
static int json_check(const char *path, const char *data, size_t len,
		      struct pf_diag *d)
{
	json_error_t err;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);

	if (root) {
		json_decref(root);
		return 0;
	}
	if (err.line > 0) {
		struct pf_mark at = { path, (unsigned)err.line,
				      err.column > 0 ? (unsigned)err.column : 1 };

		diag_error(d, &at, "invalid JSON: %s", err.text);
	} else {
		struct pf_mark at = { path, 0, 0 };

		diag_error(d, &at, "invalid JSON: %s", err.text);
	}
	return -EINVAL;
}

static bool is_json_path(const char *path)
{
	size_t len = strlen(path);

	return len >= 5 && strcmp(path + len - 5, ".json") == 0;
}

int doc_load(const char *path, struct pf_diag *d, struct pf_doc **out)
{
	struct loader L = { .d = d };
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_file(path, d, &data, &len);
	if (rc)
		return rc;
	if (is_json_path(path)) {
		rc = json_check(path, data, len, d);
		if (rc)
			goto clean;
		/* YAML forbids tabs where JSON allows them as blanks; outside
		 * strings they are insignificant, so blank them for libyaml. */
		bool in_str = false, esc = false;

		for (size_t i = 0; i < len; i++) {
			if (in_str) {
				if (esc)
					esc = false;
				else if (data[i] == '\\')
					esc = true;
				else if (data[i] == '"')
					in_str = false;
			} else if (data[i] == '"') {
				in_str = true;
			} else if (data[i] == '\t') {
				data[i] = ' ';
			}
		}
	}
	L.doc = calloc(1, sizeof(*L.doc));
	if (!L.doc || !(L.doc->file = strdup(path))) {
		rc = -ENOMEM;
		goto clean;
	}
	if (!yaml_parser_initialize(&L.parser)) {
		rc = -ENOMEM;
		goto clean;
	}
	yaml_parser_set_input_string(&L.parser, (const unsigned char *)data,
				     len);
	rc = parse_stream(&L);
	yaml_parser_delete(&L.parser);
	if (rc)
		goto clean;
	*out = L.doc;
	L.doc = NULL;
clean:
	doc_free(L.doc);
	free(data);
	return rc;
}

const struct pf_node *node_get(const struct pf_node *map, const char *key)
{
	if (!map || map->kind != PF_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->scalar, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

const char *node_kind_name(const struct pf_node *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case PF_NODE_SEQ:
		return "a list";
	case PF_NODE_MAP:
		return "a mapping";
	default:
		return node_is_null(n) ? "null" : "a string";
	}
}

bool node_is_null(const struct pf_node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (!n || n->kind != PF_NODE_SCALAR || n->quoted)
		return false;
	for (size_t i = 0; i < 5; i++)
		if (strcmp(n->scalar, nulls[i]) == 0)
			return true;
	return false;
}
