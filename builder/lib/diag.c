#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/diag.h"

struct pf_diag_msg {
	enum pf_severity sev;
	char *file;
	unsigned line, col;
	size_t seq;
	char *text;
};

struct pf_diag {
	struct pf_diag_msg *v;
	size_t n, cap;
	size_t errors, warnings;
	bool oom;
};

struct pf_diag *diag_new(void)
{
	return calloc(1, sizeof(struct pf_diag));
}

void diag_free(struct pf_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].text);
	}
	free(d->v);
	free(d);
}

void diag_add(struct pf_diag *d, enum pf_severity sev,
	      const struct pf_mark *at, const char *fmt, ...)
{
	struct pf_diag_msg m = { .sev = sev };
	va_list ap;
	int len;

	if (sev == PF_ERROR)
		d->errors++;
	else
		d->warnings++;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		goto oom;
	m.text = malloc((size_t)len + 1);
	if (!m.text)
		goto oom;
	va_start(ap, fmt);
	vsnprintf(m.text, (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (at && at->file) {
		m.file = strdup(at->file);
		if (!m.file)
			goto oom;
		m.line = at->line;
		m.col = at->col;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pf_diag_msg *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			goto oom;
		d->v = v;
		d->cap = cap;
	}
	m.seq = d->n;
	d->v[d->n++] = m;
	return;
oom:
	free(m.text);
	free(m.file);
	d->oom = true;
}

size_t diag_errors(const struct pf_diag *d)
{
	return d->errors;
}

size_t diag_warnings(const struct pf_diag *d)
{
	return d->warnings;
}

static int msg_cmp(const void *pa, const void *pb)
{
	const struct pf_diag_msg *a = pa, *b = pb;
	int c;

	/* Messages without a place come first, then by file, line, col. */
	if (!a->file != !b->file)
		return a->file ? 1 : -1;
	if (a->file && (c = strcmp(a->file, b->file)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

const char *mark_format(const struct pf_mark *m, char *buf, size_t size)
{
	if (!m || !m->file)
		snprintf(buf, size, "pxeforge");
	else if (!m->line)
		snprintf(buf, size, "%s", m->file);
	else
		snprintf(buf, size, "%s:%u:%u", m->file, m->line, m->col);
	return buf;
}

static bool same_place(const struct pf_diag_msg *a,
		       const struct pf_diag_msg *b)
{
	return !a->file == !b->file &&
	       (!a->file || !strcmp(a->file, b->file)) &&
	       a->line == b->line && a->col == b->col;
}

/* A value of defaults is checked once per host that inherits it: say its
 * problem once. After sorting, messages at one place are adjacent. */
static bool said_before(const struct pf_diag *d, size_t i)
{
	for (size_t j = i; j-- > 0 && same_place(&d->v[j], &d->v[i]);)
		if (d->v[j].sev == d->v[i].sev &&
		    !strcmp(d->v[j].text, d->v[i].text))
			return true;
	return false;
}

void diag_print(struct pf_diag *d, FILE *fp)
{
	diag_print_some(d, fp, NULL, NULL);
}

size_t diag_print_some(struct pf_diag *d, FILE *fp,
		       bool (*show)(const struct pf_mark *at, void *ctx),
		       void *ctx)
{
	size_t hidden = 0;

	/* Sorting in place keeps printing allocation-free; seq keeps it stable. */
	if (d->n)
		qsort(d->v, d->n, sizeof(*d->v), msg_cmp);
	for (size_t i = 0; i < d->n; i++) {
		const struct pf_diag_msg *m = &d->v[i];
		struct pf_mark at = { m->file, m->line, m->col };
		char place[4096];

		if (said_before(d, i))
			continue;
		if (show && !show(&at, ctx)) {
			hidden++;
			continue;
		}
		fprintf(fp, "%s: %s: %s\n", mark_format(&at, place, sizeof(place)),
			m->sev == PF_ERROR ? "error" : "warning", m->text);
	}
	if (d->oom)
		fprintf(fp, "pxeforge: error: out of memory while reporting problems\n");
	return hidden;
}
