/* render_profile: `render --host H --target profile`, the host as merged
 * (defaults, groups, its own keys), each value with a comment naming
 * where it was written, as `git config --show-origin` does:
 *
 *     cpu: intel  # racks/groups.yaml:4 (group intel-host)
 *
 * libyaml's emitter has no comment events, so every scalar (key or value)
 * is emitted alone through it, which decides its quoting, and the block
 * structure and the comments are laid out here. */
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "pxeforge/profile/merge.h"
#include "pxeforge/render/render.h"

static int to_buf(void *data, unsigned char *bytes, size_t size)
{
	return buf_append(data, (const char *)bytes, size) == 0;
}

/* One scalar as a document of its own: plain when the source had it
 * plain (and libyaml can), else quoted; a value spanning lines
 * double-quoted, so that it stays on one line. */
static int emit_scalar(struct pf_buf *tmp, const struct pf_node *n,
		       yaml_scalar_style_t style)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	bool ok;

	buf_release(tmp);
	buf_init(tmp);
	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output(&e, to_buf, tmp);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_unicode(&e, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)n->scalar,
					  (int)strlen(n->scalar), !n->quoted,
					  1, style) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_document_end_event_initialize(&ev, 1) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_stream_end_event_initialize(&ev) &&
	     yaml_emitter_emit(&e, &ev) && yaml_emitter_flush(&e);
	yaml_emitter_delete(&e);
	if (!ok)
		return -ENOMEM;
	/* a document of one scalar: the scalar, a newline, maybe "...\n" */
	if (tmp->len >= 4 && !memcmp(tmp->data + tmp->len - 4, "...\n", 4))
		tmp->len -= 4;
	while (tmp->len && tmp->data[tmp->len - 1] == '\n')
		tmp->len--;
	return 0;
}

static int scalar_text(struct pf_buf *out, const struct pf_node *n)
{
	struct pf_buf tmp;
	int rc;

	buf_init(&tmp);
	rc = emit_scalar(&tmp, n, YAML_ANY_SCALAR_STYLE);
	if (!rc && tmp.len && memchr(tmp.data, '\n', tmp.len))
		rc = emit_scalar(&tmp, n, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	if (!rc && tmp.len)
		rc = buf_append(out, tmp.data, tmp.len);
	buf_release(&tmp);
	return rc;
}

/* "  # file:line (group g)" and the end of the line; a path's control
 * characters would end the comment, so they are shown as '?'. */
static int origin(struct pf_buf *out, const struct pf_node *n)
{
	int rc = buf_puts(out, "  # ");

	for (const char *s = n->mark.file ? n->mark.file : "?"; !rc && *s; s++)
		rc = buf_printf(out, "%c",
				(unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	if (!rc)
		rc = buf_printf(out, ":%u", n->mark.line);
	if (!rc && n->group)
		rc = buf_printf(out, " (group %s)", n->group);
	if (!rc && n->from_defaults)
		rc = buf_puts(out, " (default)");
	return rc ? rc : buf_puts(out, "\n");
}

static int emit_value(struct pf_buf *out, const struct pf_node *n,
		      unsigned indent, bool inline_first);

/* A scalar or an empty collection on the current line. */
static int leaf(struct pf_buf *out, const struct pf_node *n)
{
	int rc;

	if (n->kind == PF_NODE_SCALAR)
		rc = scalar_text(out, n);
	else
		rc = buf_puts(out, n->kind == PF_NODE_SEQ ? "[]" : "{}");
	return rc ? rc : origin(out, n);
}

static bool is_leaf(const struct pf_node *n)
{
	return n->kind == PF_NODE_SCALAR || !n->n;
}

static int emit_map(struct pf_buf *out, const struct pf_node *n,
		    unsigned indent, bool inline_first)
{
	int rc = 0;

	for (size_t i = 0; i < n->n && !rc; i++) {
		const struct pf_node *v = n->pairs[i].value;

		if (i || !inline_first)
			rc = buf_printf(out, "%*s", (int)indent, "");
		if (!rc)
			rc = scalar_text(out, n->pairs[i].key);
		if (!rc)
			rc = buf_puts(out, is_leaf(v) ? ": " : ":\n");
		if (!rc)
			rc = is_leaf(v) ? leaf(out, v) :
			     emit_value(out, v, indent + 2, false);
	}
	return rc;
}

static int emit_seq(struct pf_buf *out, const struct pf_node *n,
		    unsigned indent, bool inline_first)
{
	int rc = 0;

	for (size_t i = 0; i < n->n && !rc; i++) {
		const struct pf_node *v = n->items[i];

		if (i || !inline_first)
			rc = buf_printf(out, "%*s", (int)indent, "");
		if (!rc)
			rc = buf_puts(out, "- ");
		if (!rc)
			rc = is_leaf(v) ? leaf(out, v) :
			     emit_value(out, v, indent + 2, true);
	}
	return rc;
}

static int emit_value(struct pf_buf *out, const struct pf_node *n,
		      unsigned indent, bool inline_first)
{
	if (is_leaf(n))
		return leaf(out, n);
	return n->kind == PF_NODE_MAP ? emit_map(out, n, indent, inline_first) :
					emit_seq(out, n, indent, inline_first);
}

int render_profile(const struct pf_plan *plan, const struct pf_plan_host *h,
		   struct pf_buf *out)
{
	struct pf_node_arena a = { 0 };
	const struct pf_node *view;
	int rc;

	rc = profile_host_view(plan->profile, h->host, &a, &view);
	if (!rc)
		rc = buf_printf(out,
				"# host '%s' as merged; after each value, where it was written\n",
				h->host->name.s ? h->host->name.s : "");
	if (!rc)
		rc = emit_value(out, view, 0, false);
	node_arena_release(&a);
	return rc;
}
