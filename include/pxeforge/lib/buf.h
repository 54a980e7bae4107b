/* Growable byte buffer: the output type of every renderer. */
#ifndef PXEFORGE_BUF_H
#define PXEFORGE_BUF_H

#include <stddef.h>

struct pf_buf {
	char *data;	/* always NUL-terminated once anything was appended */
	size_t len;	/* bytes, not counting the NUL */
	size_t cap;
};

void buf_init(struct pf_buf *b);
void buf_release(struct pf_buf *b);
/* Return 0 or -ENOMEM; on failure the buffer keeps its old content. */
int buf_append(struct pf_buf *b, const void *data, size_t len);
int buf_puts(struct pf_buf *b, const char *s);
int buf_printf(struct pf_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the NUL-terminated data to the caller ("" when empty); b is reset. */
char *buf_detach(struct pf_buf *b);

#endif
