/* The download progress bar: one line on a terminal, redrawn with '\r'. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pxeforge/lib/progress.h"

#define LABEL_MAX 24
#define REDRAW_S 0.1

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t size, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%.0f B", bytes);
		return;
	}
	while (bytes >= 1024 && u < 3) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", bytes, units[u]);
}

static void duration(char *buf, size_t size, double secs)
{
	uint64_t s = (uint64_t)(secs + 0.5);

	if (s >= 3600)
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

int progress_format(char *buf, size_t size, uint64_t done, uint64_t total,
		    uint64_t base, double secs)
{
	char d[16], t[16], r[16] = "--", eta[24] = "--:--";
	double rate = 0;

	human(d, sizeof(d), (double)done);
	if (secs > 0 && done > base) {
		rate = (double)(done - base) / secs;
		human(r, sizeof(r), rate);
	}
	if (!total)
		return snprintf(buf, size, "%s  %s/s", d, r);
	human(t, sizeof(t), (double)total);
	if (done >= total)
		snprintf(eta, sizeof(eta), "0:00");
	else if (rate > 0)
		duration(eta, sizeof(eta), (double)(total - done) / rate);
	return snprintf(buf, size, "%s / %s  %3u%%  %s/s  ETA %s", d, t,
			(unsigned)(done >= total ? 100 : done * 100 / total),
			r, eta);
}

void progress_begin(struct pf_progress *p, bool on, FILE *fp,
		    const char *label, uint64_t base)
{
	memset(p, 0, sizeof(*p));
	p->on = on && fp;
	p->fp = fp;
	p->label = label ? label : "";
	p->base = base;
	p->t0 = now_s();
}

static void draw(struct pf_progress *p, uint64_t done, uint64_t total,
		 double t)
{
	char line[128];
	int n;

	n = progress_format(line, sizeof(line), done, total, p->base,
			    t - p->t0);
	if (n < 0)
		return;
	n = fprintf(p->fp, "\r%-*.*s  %s", LABEL_MAX, LABEL_MAX, p->label,
		    line);
	/* Blank out what a longer previous line left behind. */
	if (n > 0 && n - 1 < p->width)
		fprintf(p->fp, "%*s", p->width - (n - 1), "");
	if (n > 0 && n - 1 > p->width)
		p->width = n - 1;
	fflush(p->fp);
	p->last = t;
}

void progress_update(struct pf_progress *p, uint64_t done, uint64_t total)
{
	double t;

	if (!p->on)
		return;
	t = now_s();
	if (p->width && t - p->last < REDRAW_S)
		return;
	draw(p, done, total, t);
}

void progress_end(struct pf_progress *p, uint64_t done, uint64_t total)
{
	if (!p->on)
		return;
	if (!p->width && done <= p->base) {	/* no byte came: no bar */
		p->on = false;
		return;
	}
	draw(p, done, total, now_s());
	fputc('\n', p->fp);
	fflush(p->fp);
	p->on = false;
}

void progress_start_large(struct pf_progress *bar, const char *label,
			  uint64_t total)
{
	progress_begin(bar, total >= PF_PROGRESS_MIN, stderr, label, 0);
}

void progress_start(pf_progress_start_fn start, struct pf_progress *bar,
		    const char *label, uint64_t total)
{
	if (start)
		start(bar, label, total);
	else
		progress_begin(bar, false, stderr, label, 0);
}
