#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/validate/cmdline.h"

enum param_kind { PARAM_SINGLE, PARAM_LIST, PARAM_REPEAT };

/* Parameters whose value is a comma-separated set; the kernel (or dracut)
 * only honours the last occurrence, so occurrences must be merged. */
static const char *const list_names[] = {
	"vfio_pci.ids", "modprobe.blacklist", "module_blacklist",
	"rd.driver.pre", "rd.driver.post", "rd.driver.blacklist",
	"initcall_blacklist", "intel_iommu",
};

/* Elements of one list that contradict each other ("intel_iommu=on" and a
 * NixOS "intel_iommu=off,igfx_off" cannot both hold). */
static const char *const list_opposites[][3] = {
	{ "intel_iommu", "on", "off" },
};

/* Parameters the kernel or the initrd read once per occurrence. */
static const char *const repeat_names[] = {
	"console", "initrd", "ip", "nameserver", "ifname", "rd.route",
	"bond", "vlan", "bridge",
};

void cmdline_init(struct pf_cmdline *cl)
{
	cl->v = NULL;
	cl->n = 0;
	cl->cap = 0;
}

void cmdline_release(struct pf_cmdline *cl)
{
	if (!cl)
		return;
	for (size_t i = 0; i < cl->n; i++) {
		free(cl->v[i].key);
		free(cl->v[i].value);
		free(cl->v[i].source);
	}
	free(cl->v);
	cmdline_init(cl);
}

/* The kernel's parameq(): '-' and '_' are the same character. */
static char dash2underscore(char c)
{
	return c == '-' ? '_' : c;
}

static bool name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (dash2underscore(a[i]) != dash2underscore(b[i]))
			return false;
	return true;
}

static enum param_kind classify(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(list_names) / sizeof(list_names[0]); i++)
		if (name_eq(name, len, list_names[i], strlen(list_names[i])))
			return PARAM_LIST;
	for (i = 0; i < sizeof(repeat_names) / sizeof(repeat_names[0]); i++)
		if (name_eq(name, len, repeat_names[i], strlen(repeat_names[i])))
			return PARAM_REPEAT;
	return PARAM_SINGLE;
}

static bool value_eq(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	return strcmp(a, b) == 0;
}

bool cmdline_kernel_isspace(unsigned char c)
{
	/* The _S entries of the kernel's lib/ctype.c table, which
	 * next_arg() and skip_spaces() split the command line at. */
	return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0;
}

const char *cmdline_token_problem(const char *token)
{
	if (!token || !*token)
		return "is empty";
	for (const char *s = token; *s; s++)
		if ((unsigned char)*s == 0xa0)
			return "contains byte 0xa0, which the Linux kernel reads "
			       "as a blank (lib/ctype.c) and splits at, where "
			       "pxeforge and iPXE see one word";
	/* Exactly the characters iPXE's isspace() splits at. */
	if (strpbrk(token, " \t\n\r\v\f"))
		return "contains whitespace, and iPXE splits arguments at "
		       "whitespace and cannot quote or escape";
	/* The renderers refuse such bytes; say so here, where check sees it. */
	for (const char *s = token; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "contains a control character";
	/* Other bytes over 0x7f are not blanks to the kernel, but UTF-8
	 * on UEFI is re-encoded on the way, and a look-alike character
	 * hides what the kernel gets: only ASCII goes on the line. */
	for (const char *s = token; *s; s++)
		if ((unsigned char)*s > 0x7f)
			return "contains a byte over 0x7f (only ASCII is allowed)";
	if (strstr(token, "${"))
		return "contains '${', which iPXE expands as a setting";
	/* iPXE ends the command at any token that starts with '#'. */
	if (token[0] == '#')
		return "starts with '#', which iPXE reads as a comment";
	if (!strcmp(token, ";") || !strcmp(token, "&&") || !strcmp(token, "||"))
		return "is an iPXE command separator";
	return NULL;
}

bool cmdline_key_equal(const char *token, const char *key)
{
	if (!token || !key)
		return false;
	return name_eq(token, strcspn(token, "="), key, strlen(key));
}

const struct pf_param *cmdline_find(const struct pf_cmdline *cl, const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < cl->n; i++)
		if (name_eq(cl->v[i].key, strlen(cl->v[i].key), key, strlen(key)))
			return &cl->v[i];
	return NULL;
}

static struct pf_param *find_name(struct pf_cmdline *cl, const char *name,
				  size_t len)
{
	for (size_t i = 0; i < cl->n; i++)
		if (name_eq(cl->v[i].key, strlen(cl->v[i].key), name, len))
			return &cl->v[i];
	return NULL;
}

/* Messages are one line each: a control character in user text would
 * break that (and could forge a second message), so it becomes '?';
 * a byte over 0x7f is shown as \xNN, the byte the message is about. */
static int buf_put_clean(struct pf_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char out[5] = { (c < 0x20 || c == 0x7f) ? '?' : (char)c };
		size_t len = 1;
		int rc;

		if (c > 0x7f)
			len = (size_t)snprintf(out, sizeof out, "\\x%02x", c);
		rc = buf_append(b, out, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* Either "'value'" or "(no value)" for a bare word. */
static int buf_put_value(struct pf_buf *b, const char *value)
{
	int rc;

	if (!value)
		return buf_puts(b, "(no value)");
	rc = buf_puts(b, "'");
	if (!rc)
		rc = buf_put_clean(b, value);
	if (!rc)
		rc = buf_puts(b, "'");
	return rc;
}

static void report(struct pf_diag *d, const struct pf_mark *at,
		   const struct pf_buf *msg)
{
	if (d)
		diag_error(d, at, "%s", msg->data ? msg->data : "");
}

static int report_token(const char *token, const char *problem,
			const struct pf_mark *at, struct pf_diag *d)
{
	struct pf_buf msg;
	int rc;

	buf_init(&msg);
	rc = buf_puts(&msg, "kernel parameter '");
	if (!rc)
		rc = buf_put_clean(&msg, token ? token : "");
	if (!rc)
		rc = buf_printf(&msg, "' %s", problem);
	if (rc)
		goto out;
	report(d, at, &msg);
	rc = -EINVAL;
out:
	buf_release(&msg);
	return rc;
}

static int report_conflict(const struct pf_param *old, const char *value,
			   const char *source, const struct pf_mark *at,
			   struct pf_diag *d)
{
	struct pf_buf msg;
	char place[4096];
	int rc;

	buf_init(&msg);
	rc = buf_puts(&msg, "conflicting values for kernel parameter '");
	if (!rc)
		rc = buf_put_clean(&msg, old->key);
	if (!rc)
		rc = buf_puts(&msg, "': ");
	if (!rc)
		rc = buf_put_value(&msg, value);
	if (!rc)
		rc = buf_printf(&msg, " from %s and ",
				source ? source : "(unknown source)");
	if (!rc)
		rc = buf_put_value(&msg, old->value);
	if (!rc)
		rc = buf_printf(&msg, " from %s",
				old->source ? old->source : "(unknown source)");
	/* Without a file the old place says nothing useful. */
	if (!rc && old->mark.file)
		rc = buf_printf(&msg, " (%s)",
				mark_format(&old->mark, place, sizeof(place)));
	if (rc)
		goto out;
	report(d, at, &msg);
	rc = -EINVAL;
out:
	buf_release(&msg);
	return rc;
}

/* Union of the comma-separated elements of a then b, first-seen order,
 * empty elements dropped; b may be NULL. */
static int list_union(const char *a, const char *b, char **out)
{
	struct pf_strlist seen;
	struct pf_buf joined;
	char *copy = NULL, *rest, *elem;
	int rc = -ENOMEM;

	strlist_init(&seen);
	buf_init(&joined);
	*out = NULL;
	if (buf_puts(&joined, a) || (b && (buf_puts(&joined, ",") ||
					  buf_puts(&joined, b))))
		goto out;
	copy = buf_detach(&joined);
	if (!copy)
		goto out;
	rest = copy;
	while ((elem = strsep(&rest, ",")) != NULL) {
		if (!*elem || strlist_contains(&seen, elem))
			continue;
		rc = strlist_push(&seen, elem);
		if (!rc && seen.n > 1)
			rc = buf_puts(&joined, ",");
		if (!rc)
			rc = buf_puts(&joined, elem);
		if (rc)
			goto out;
	}
	*out = buf_detach(&joined);
	rc = *out ? 0 : -ENOMEM;
out:
	free(copy);
	buf_release(&joined);
	strlist_release(&seen);
	return rc;
}

static int append(struct pf_cmdline *cl, const char *token, size_t keylen,
		  const char *value, const char *source,
		  const struct pf_mark *at)
{
	struct pf_param p = { 0 };

	if (cl->n == cl->cap) {
		size_t cap = cl->cap ? cl->cap * 2 : 16;
		struct pf_param *v = realloc(cl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cl->v = v;
		cl->cap = cap;
	}
	p.key = strndup(token, keylen);
	if (!p.key)
		goto nomem;
	if (value) {
		p.value = strdup(value);
		if (!p.value)
			goto nomem;
	}
	if (source) {
		p.source = strdup(source);
		if (!p.source)
			goto nomem;
	}
	/* The file name is borrowed: it lives as long as the parsed profile. */
	if (at)
		p.mark = *at;
	cl->v[cl->n++] = p;
	return 0;
nomem:
	free(p.key);
	free(p.value);
	free(p.source);
	return -ENOMEM;
}

bool cmdline_list_has(const char *list, const char *elem, bool ignore_case)
{
	size_t n = strlen(elem);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		int diff = ignore_case ? strncasecmp(p, elem, n) :
					 strncmp(p, elem, n);

		if (diff == 0 && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

static bool list_contradicts(const char *name, size_t len, const char *merged)
{
	for (size_t i = 0; i < sizeof(list_opposites) / sizeof(list_opposites[0]); i++)
		if (name_eq(name, len, list_opposites[i][0],
			    strlen(list_opposites[i][0])) &&
		    cmdline_list_has(merged, list_opposites[i][1], false) &&
		    cmdline_list_has(merged, list_opposites[i][2], false))
			return true;
	return false;
}

static int add_list(struct pf_cmdline *cl, const char *token, size_t keylen,
		    const char *value, const char *source,
		    const struct pf_mark *at, struct pf_diag *d)
{
	struct pf_param *old = find_name(cl, token, keylen);
	char *merged = NULL;
	int rc;

	/* A bare occurrence adds no elements. */
	if (old && !value)
		return 0;
	if (!value)
		return append(cl, token, keylen, NULL, source, at);
	rc = list_union(old && old->value ? old->value : "", value, &merged);
	if (rc)
		goto out;
	if (!old) {
		rc = append(cl, token, keylen, merged, source, at);
		goto out;
	}
	if (list_contradicts(token, keylen, merged)) {
		rc = report_conflict(old, value, source, at, d);
		goto out;
	}
	/* The first occurrence keeps its place, spelling and source. */
	free(old->value);
	old->value = merged;
	merged = NULL;
out:
	free(merged);
	return rc;
}

static int add_repeat(struct pf_cmdline *cl, const char *token, size_t keylen,
		      const char *value, const char *source,
		      const struct pf_mark *at)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct pf_param *p = &cl->v[i];

		if (name_eq(p->key, strlen(p->key), token, keylen) &&
		    value_eq(p->value, value))
			return 0;
	}
	return append(cl, token, keylen, value, source, at);
}

static int add_single(struct pf_cmdline *cl, const char *token, size_t keylen,
		      const char *value, const char *source,
		      const struct pf_mark *at, struct pf_diag *d)
{
	const struct pf_param *old = find_name(cl, token, keylen);

	if (!old)
		return append(cl, token, keylen, value, source, at);
	if (value_eq(old->value, value))
		return 0;
	return report_conflict(old, value, source, at, d);
}

int cmdline_add(struct pf_cmdline *cl, const char *token, const char *source,
		const struct pf_mark *at, struct pf_diag *d)
{
	const char *problem = cmdline_token_problem(token);
	const char *value = NULL;
	size_t keylen;

	/* The kernel would set a parameter with no name: refuse it here
	 * rather than fail at render time. */
	if (!problem && token[0] == '=')
		problem = "has no name before '='";
	if (problem)
		return report_token(token, problem, at, d);
	/* Split at the first '=': "init=/x=y" is init with value "/x=y". */
	keylen = strcspn(token, "=");
	if (token[keylen] == '=')
		value = token + keylen + 1;
	switch (classify(token, keylen)) {
	case PARAM_LIST:
		return add_list(cl, token, keylen, value, source, at, d);
	case PARAM_REPEAT:
		return add_repeat(cl, token, keylen, value, source, at);
	default:
		return add_single(cl, token, keylen, value, source, at, d);
	}
}

size_t cmdline_length(const struct pf_cmdline *cl)
{
	size_t len = 0;

	for (size_t i = 0; i < cl->n; i++) {
		if (i)
			len++;
		len += strlen(cl->v[i].key);
		if (cl->v[i].value)
			len += 1 + strlen(cl->v[i].value);
	}
	return len;
}

int cmdline_param_append(struct pf_buf *b, const struct pf_param *p)
{
	int rc = buf_puts(b, p->key);

	if (!rc && p->value)
		rc = buf_printf(b, "=%s", p->value);
	return rc;
}

int cmdline_format(const struct pf_cmdline *cl, char **out)
{
	struct pf_buf b;
	int rc = 0;

	buf_init(&b);
	*out = NULL;
	for (size_t i = 0; i < cl->n && !rc; i++) {
		if (i)
			rc = buf_puts(&b, " ");
		if (!rc)
			rc = cmdline_param_append(&b, &cl->v[i]);
	}
	if (rc)
		goto out;
	*out = buf_detach(&b);
	if (!*out)
		rc = -ENOMEM;
out:
	buf_release(&b);
	return rc;
}

int cmdline_check_length(const struct pf_cmdline *cl, const char *kernel_name,
			 const char *host, const struct pf_mark *at,
			 struct pf_diag *d)
{
	struct pf_buf msg;
	size_t total;
	int rc;

	if (!kernel_name)
		kernel_name = "";
	/* iPXE on UEFI passes "<image name> <cmdline>" as the load options. */
	total = strlen(kernel_name) + 1 + cmdline_length(cl);
	if (total <= PF_CMDLINE_MAX)
		return 0;
	buf_init(&msg);
	rc = buf_puts(&msg, "kernel command line of host '");
	if (!rc)
		rc = buf_put_clean(&msg, host ? host : "");
	if (!rc)
		rc = buf_printf(&msg, "' is %zu bytes, over the %d usable "
				"(x86 COMMAND_LINE_SIZE %d with its NUL; "
				"counted with the '", total, PF_CMDLINE_MAX,
				PF_CMDLINE_MAX + 1);
	if (!rc)
		rc = buf_put_clean(&msg, kernel_name);
	if (!rc)
		rc = buf_puts(&msg, " ' iPXE prepends on UEFI)");
	if (rc)
		goto out;
	report(d, at, &msg);
	rc = -E2BIG;
out:
	buf_release(&msg);
	return rc;
}
