/* A one-line progress bar on a terminal (downloads, large copies, packing). */
#ifndef PXEFORGE_LIB_PROGRESS_H
#define PXEFORGE_LIB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pf_progress {
	bool on;
	FILE *fp;
	const char *label;	/* shown first; not owned */
	uint64_t base;		/* bytes already there (resume): not in the rate */
	double t0, last;	/* monotonic seconds: start, last redraw */
	int width;		/* length of the last line drawn */
};

/* Files smaller than this are copied or packed without a bar: they take
 * no time worth showing. */
#define PF_PROGRESS_MIN (16 * 1024 * 1024)

/* Nothing is ever written when on is false. */
void progress_begin(struct pf_progress *p, bool on, FILE *fp,
		    const char *label, uint64_t base);
/* Redraws one line ('\r', padded) at most 10 times a second. total 0:
 * unknown. */
void progress_update(struct pf_progress *p, uint64_t done, uint64_t total);
/* Last redraw and a newline, unless nothing was drawn and no byte came
 * (done <= base): a transfer that failed first leaves no bar. */
void progress_end(struct pf_progress *p, uint64_t done, uint64_t total);
/* How a stage that copies (out/) leaves what is shown to its caller
 * (cli): called before a copy of total bytes named label, it starts bar
 * with progress_begin, on or off as it decides. */
typedef void (*pf_progress_start_fn)(struct pf_progress *bar,
				     const char *label, uint64_t total);
/* What cli chooses when stderr is a terminal: a bar on stderr for copies
 * of PF_PROGRESS_MIN or more. */
void progress_start_large(struct pf_progress *bar, const char *label,
			  uint64_t total);
/* bar started by start, or off when start is NULL. */
void progress_start(pf_progress_start_fn start, struct pf_progress *bar,
		    const char *label, uint64_t total);

/* The line without label or '\r': "1.0 MiB / 2.0 MiB  50%  4.0 MiB/s
 * ETA 0:01" (rate from done - base over secs). Returns the length as
 * snprintf does. */
int progress_format(char *buf, size_t size, uint64_t done, uint64_t total,
		    uint64_t base, double secs);

#endif
