/* Diagnostics: every stage adds problems here; the CLI prints them once,
 * sorted by place, as "file:line:col: error: message". */
#ifndef PXEFORGE_DIAG_H
#define PXEFORGE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A place in a source file. file == NULL: no place; line == 0: file only. */
struct pf_mark {
	const char *file;
	unsigned line;	/* 1-based */
	unsigned col;	/* 1-based */
};

enum pf_severity { PF_WARNING, PF_ERROR };

struct pf_diag;

struct pf_diag *diag_new(void);
void diag_free(struct pf_diag *d);

/* Records a message (copied); at may be NULL. Messages are lowercase,
 * problem first, subject quoted: "unknown key 'gpu' (did you mean 'gpus'?)".
 * An allocation failure is remembered and counts as an error. */
void diag_add(struct pf_diag *d, enum pf_severity sev,
	      const struct pf_mark *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, at, ...) diag_add((d), PF_ERROR, (at), __VA_ARGS__)
#define diag_warn(d, at, ...) diag_add((d), PF_WARNING, (at), __VA_ARGS__)

size_t diag_errors(const struct pf_diag *d);
size_t diag_warnings(const struct pf_diag *d);
/* Prints all messages sorted by file, line, col (stable), one per line. */
void diag_print(struct pf_diag *d, FILE *fp);
/* diag_print of the messages show accepts (at: each one's place); the
 * number of the others (a repeated message counts once). */
size_t diag_print_some(struct pf_diag *d, FILE *fp,
		       bool (*show)(const struct pf_mark *at, void *ctx),
		       void *ctx);
/* "file:line:col" (or less) into buf; for messages that cite another place. */
const char *mark_format(const struct pf_mark *m, char *buf, size_t size);

#endif
