/* The kernel command line as an ordered multi-map, not a string.
 *
 * Rules (see README "Kernel command line"):
 * - names compare with '-' and '_' as one character (the kernel's own rule),
 *   so vfio-pci.ids and vfio_pci.ids are one parameter;
 * - comma-list parameters (vfio_pci.ids, modprobe.blacklist, module_blacklist,
 *   rd.driver.pre, rd.driver.post, rd.driver.blacklist, initcall_blacklist)
 *   merge into their first occurrence, deduplicated, order kept;
 * - repeatable parameters (console, initrd, ip, nameserver, ifname, rd.route,
 *   bond, vlan, bridge) are kept in order, exact duplicates dropped;
 * - any other parameter may be given again with the same value (dropped),
 *   a different value is an error naming both sources;
 * - tokens iPXE or the kernel would misread are rejected: whitespace
 *   (the kernel's set includes byte 0xa0), control characters, any other
 *   byte over 0x7f, "${", a leading '#', a
 *   standalone ";", "&&" or "||", and the empty token; cmdline_add also
 *   refuses an empty name ("=x").
 */
#ifndef PXEFORGE_CMDLINE_H
#define PXEFORGE_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/diag.h"

/* x86 COMMAND_LINE_SIZE is 2048 including the terminating NUL. */
#define PF_CMDLINE_MAX 2047

struct pf_param {
	char *key;	/* as first written: "vfio-pci.ids", "quiet" */
	char *value;	/* NULL for a bare word ("quiet"); "" for "key=" */
	char *source;	/* where it came from, for messages: "hosts[0].kernel_params" */
	struct pf_mark mark;
};

struct pf_cmdline {
	struct pf_param *v;
	size_t n, cap;
};

void cmdline_init(struct pf_cmdline *cl);
void cmdline_release(struct pf_cmdline *cl);

/* Adds one token under the rules above. On a rejected token or a conflict
 * reports an error at `at` into d and returns -EINVAL; -ENOMEM on
 * allocation failure; 0 otherwise (appended, merged or dropped as a duplicate).
 * source describes the origin for messages; at may be NULL. */
int cmdline_add(struct pf_cmdline *cl, const char *token, const char *source,
		const struct pf_mark *at, struct pf_diag *d);

/* Whether the Linux kernel splits its command line at byte c (its
 * isspace(): 9-13, ' ' and 0xa0, from lib/ctype.c). */
bool cmdline_kernel_isspace(unsigned char c);

/* Checks a token as iPXE and the kernel would read it; NULL when safe, else the reason
 * ("contains whitespace", ...) as a static string. */
const char *cmdline_token_problem(const char *token);

/* True when the token's name equals key under the '-'/'_' rule
 * ("vfio_pci.ids=1" and "vfio-pci.ids" match). */
bool cmdline_key_equal(const char *token, const char *key);

/* Whether the comma-separated list holds elem as a whole element
 * ("on" in "on,igfx_off"). list may be NULL. */
bool cmdline_list_has(const char *list, const char *elem, bool ignore_case);

/* The parameter whose name matches key, or NULL. */
const struct pf_param *cmdline_find(const struct pf_cmdline *cl, const char *key);

/* Appends one parameter as written on the line: "key" or "key=value". */
int cmdline_param_append(struct pf_buf *b, const struct pf_param *p);

/* Length of the joined line (single spaces, no NUL). */
size_t cmdline_length(const struct pf_cmdline *cl);

/* Joins into a malloc'd string; 0 or -ENOMEM. */
int cmdline_format(const struct pf_cmdline *cl, char **out);

/* Errors into d (at `at`) when the line plus what iPXE prepends on UEFI
 * ("<kernel name> ") exceeds PF_CMDLINE_MAX; returns -E2BIG then, else 0. */
int cmdline_check_length(const struct pf_cmdline *cl, const char *kernel_name,
			 const char *host, const struct pf_mark *at,
			 struct pf_diag *d);

#endif
