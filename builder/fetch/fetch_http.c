/* fetch_download: one URL into a .part with libcurl, resumed with Range
 * requests, transient failures retried with exponential back-off, every
 * failure turned into the short reason a user reads. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/progress.h"
#include "fetch_http.h"

#define BACKOFF_BASE_MS 1000UL
#define BACKOFF_MAX_MS 60000UL

static bool curl_ready;

int fetch_global_init(void)
{
	if (curl_ready)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	curl_ready = true;
	return 0;
}

void fetch_global_cleanup(void)
{
	if (!curl_ready)
		return;
	curl_global_cleanup();
	curl_ready = false;
}

enum verdict { DONE, RETRY, FAIL };

struct xfer {
	CURL *c;
	struct pf_part *part;
	const struct pf_fetch_opts *o;
	uint64_t asked;		/* this attempt's Range start; 0: from the start */
	bool begun;		/* the response's status was looked at */
	bool mixed;		/* the part holds bytes of earlier responses */
	bool restart;		/* those bytes cannot be continued: start over */
	bool cr_ok;		/* the response has a Content-Range, from: */
	uint64_t cr_start;
	int err;		/* -errno of a failed write */
	struct pf_progress bar;
	char errbuf[CURL_ERROR_SIZE];
};

/* First look at a 2xx response to a Range request: a 206 must continue
 * the part exactly; a 200 is the whole file again. */
static int body_begin(struct xfer *x)
{
	long code = 0;
	int rc;

	x->begun = true;
	if (!x->asked)
		return 0;
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	if (code == 206) {
		if (x->cr_ok && x->cr_start == x->asked) {
			x->mixed = true;
			return 0;
		}
		x->restart = true;
		return -1;
	}
	rc = part_reset(x->part);
	if (rc) {
		x->err = rc;
		return -1;
	}
	x->asked = 0;
	x->mixed = false;
	x->bar.base = 0;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	int rc;

	if (!x->begun && body_begin(x) != 0)
		return 0;
	rc = part_append(x->part, data, size * n);
	if (rc) {
		x->err = rc;
		return 0;
	}
	return size * n;
}

/* Remembers the Content-Range start of the latest response. */
static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	char buf[128];
	unsigned long long from, to;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		x->cr_ok = false;
	} else if (len > 14 && len < sizeof(buf) &&
		   strncasecmp(line, "content-range:", 14) == 0) {
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sscanf(buf + 14, " bytes %llu-%llu", &from, &to) == 2) {
			x->cr_ok = true;
			x->cr_start = from;
		}
	}
	return len;
}

/* The whole file's size as the current response tells it; 0: unknown. */
static uint64_t total_size(struct xfer *x)
{
	curl_off_t cl = -1;
	long code = 0;

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299 ||
	    curl_easy_getinfo(x->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &cl) != CURLE_OK || cl < 0)
		return 0;
	return x->asked + (uint64_t)cl;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (x->begun)	/* not for redirects and error answers */
		progress_update(&x->bar, x->part->size, total_size(x));
	return 0;
}

static int setup(struct xfer *x, const char *url, char **why)
{
	const struct pf_fetch_opts *o = x->o;
	CURL *c = x->c;
	CURLcode e = CURLE_OK;

#define SET(opt, val) \
	do { if (e == CURLE_OK) e = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file) {
		SET(CURLOPT_CAINFO, o->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
	SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	SET(CURLOPT_FAILONERROR, 1L);
	/* The hash is of the bytes as served, never of a decoding of them. */
	SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
	SET(CURLOPT_USERAGENT, "pxeforge");
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_NOPROGRESS, o->progress ? 0L : 1L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, x);
#undef SET
	if (e == CURLE_OK)
		return 0;
	fetch_why(why, "cannot set up libcurl: %s", curl_easy_strerror(e));
	return e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

/* "host" or "host:port" of the URL being fetched (after redirects). */
static char *where(struct xfer *x, bool port)
{
	char *url = NULL, *host = NULL, *p = NULL, *s = NULL;
	CURLU *u = curl_url();

	curl_easy_getinfo(x->c, CURLINFO_EFFECTIVE_URL, &url);
	if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (!port || curl_url_get(u, CURLUPART_PORT, &p,
				   CURLU_DEFAULT_PORT) == CURLUE_OK)) {
		if (asprintf(&s, "%s%s%s", host, p ? ":" : "", p ? p : "") < 0)
			s = NULL;
	}
	curl_free(host);
	curl_free(p);
	curl_url_cleanup(u);
	return s ? s : strdup("?");
}

static bool transient_status(long code)
{
	return code == 408 || code == 429 || code == 500 || code == 502 ||
	       code == 503 || code == 504;
}

static enum verdict fail_tls(struct xfer *x, char **why)
{
	long res = 0;
	char *host;

	/* OpenSSL's chain check sets its result; libcurl's own host name
	 * check fails with the result unset (X509_V_OK or, before it is
	 * stored, X509_V_ERR_UNSPECIFIED). */
	curl_easy_getinfo(x->c, CURLINFO_SSL_VERIFYRESULT, &res);
	if (res != X509_V_OK && res != X509_V_ERR_UNSPECIFIED) {
		fetch_why(why, "tls certificate verification failed: %s",
			  X509_verify_cert_error_string(res));
		return FAIL;
	}
	host = where(x, false);
	fetch_why(why, "tls certificate verification failed: certificate does not match host '%s'",
		  host);
	free(host);
	return FAIL;
}

/* What the attempt's outcome means: its reason, and whether to retry. */
static enum verdict classify(struct xfer *x, CURLcode res, int *rc,
			     char **why)
{
	uint64_t total = total_size(x);
	curl_off_t connect_us = 0;
	long code = 0;
	char *h = NULL;
	enum verdict v = FAIL;

	*rc = -EIO;
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	if (x->err) {
		*rc = x->err;
		fetch_why(why, "cannot write the download: %s",
			  strerror(-x->err));
		return FAIL;
	}
	if (x->restart) {
		fetch_why(why, "the server sent a range that does not continue the download");
		return RETRY;
	}
	switch (res) {
	case CURLE_OK:
		if (code >= 200 && code <= 299) {
			*rc = 0;
			return DONE;
		}
		fetch_why(why, "HTTP %ld", code);
		return FAIL;
	case CURLE_HTTP_RETURNED_ERROR:
		fetch_why(why, "HTTP %ld", code);
		/* A .part longer than the file: it was another file. */
		if (code == 416 && x->asked) {
			x->restart = true;
			return RETRY;
		}
		return transient_status(code) ? RETRY : FAIL;
	case CURLE_COULDNT_RESOLVE_HOST:
		h = where(x, false);
		fetch_why(why, "could not resolve host '%s'", h);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		fetch_why(why, "could not resolve the proxy");
		break;
	case CURLE_COULDNT_CONNECT:
		h = where(x, true);
		fetch_why(why, "could not connect to '%s'", h);
		v = RETRY;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(x->c, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (!code && !connect_us) {
			h = where(x, true);
			fetch_why(why, "timed out connecting to '%s'", h);
		} else {
			fetch_why(why, "transfer stalled: less than %ld bytes/s for %ld s",
				  x->o->low_speed_limit, x->o->low_speed_time_s);
		}
		v = RETRY;
		break;
	case CURLE_GOT_NOTHING:
		fetch_why(why, "the server closed the connection without a response");
		v = RETRY;
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		if (total)
			fetch_why(why, "connection closed after %" PRIu64 " of %" PRIu64 " bytes",
				  x->part->size, total);
		else
			fetch_why(why, "connection closed after %" PRIu64 " bytes",
				  x->part->size);
		v = RETRY;
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		fetch_why(why, "too many redirects (more than %d)",
			  FETCH_MAX_REDIRS);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		fetch_why(why, "redirected to a protocol other than http or https");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		return fail_tls(x, why);
	case CURLE_OUT_OF_MEMORY:
		*rc = -ENOMEM;
		fetch_why(why, "out of memory");
		break;
	default:
		if (!x->errbuf[0])
			snprintf(x->errbuf, sizeof(x->errbuf), "%s",
				 curl_easy_strerror(res));
		x->errbuf[0] = (char)tolower((unsigned char)x->errbuf[0]);
		fetch_why(why, "%s", x->errbuf);
		break;
	}
	free(h);
	return v;
}

static enum verdict attempt(struct xfer *x, const char *label, int *rc,
			    char **why)
{
	char range[32];
	CURLcode res;
	long code = 0;

	x->asked = x->part->size;
	x->begun = x->cr_ok = x->restart = false;
	x->err = 0;
	x->errbuf[0] = '\0';
	snprintf(range, sizeof(range), "%" PRIu64 "-", x->asked);
	curl_easy_setopt(x->c, CURLOPT_RANGE, x->asked ? range : NULL);
	progress_begin(&x->bar, x->o->progress, stderr, label, x->asked);
	res = curl_easy_perform(x->c);
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	/* An empty 2xx body never reached on_body. */
	if (!x->begun && !x->err && code >= 200 && code <= 299)
		body_begin(x);
	progress_end(&x->bar, x->part->size, total_size(x));
	return classify(x, res, rc, why);
}

static enum verdict check_hash(struct xfer *x, const char *hex, int *rc,
			       char **why)
{
	char got[65];

	*rc = part_digest_hex(x->part, got);
	if (*rc)
		return FAIL;
	if (strcmp(got, hex) == 0)
		return DONE;
	*rc = -EBADMSG;
	fetch_why(why, PF_SHA256_MISMATCH, hex, got);
	/* Bytes kept from an earlier response may be what differs. */
	x->restart = x->mixed;
	return FAIL;
}

static unsigned long backoff_ms(unsigned n)
{
	const char *env = getenv("PXEFORGE_FETCH_BACKOFF_MS");
	unsigned long ms = BACKOFF_BASE_MS;
	char *end;

	if (env && *env) {
		unsigned long v = strtoul(env, &end, 10);

		if (!*end && v <= BACKOFF_MAX_MS)
			ms = v;
	}
	while (n-- && ms < BACKOFF_MAX_MS)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The URL's last path segment, for the progress bar. */
static char *url_label(const char *url)
{
	size_t end = strcspn(url, "?#"), start = end;

	while (start && url[start - 1] != '/')
		start--;
	return start < end ? strndup(url + start, end - start) :
			     strdup("download");
}

int fetch_download(const struct pf_fetch_opts *o, const char *url,
		   const char *hex, struct pf_part *part, char **why)
{
	struct xfer x = { .part = part, .o = o, .mixed = part->size > 0 };
	unsigned attempts = 0, retried = 0;
	bool fresh = false;	/* the one free start from scratch is used */
	enum verdict v = FAIL;
	char *label = NULL, *reason;
	int rc = fetch_global_init();

	if (rc) {
		fetch_why(why, "cannot initialise libcurl");
		return rc;
	}
	x.c = curl_easy_init();
	label = url_label(url);
	if (!x.c || !label) {
		rc = -ENOMEM;
		goto out;
	}
	rc = setup(&x, url, why);
	if (rc)
		goto out;
	for (;;) {
		attempts++;
		v = attempt(&x, label, &rc, why);
		if (v == DONE)
			v = check_hash(&x, hex, &rc, why);
		if (v == DONE)
			break;
		if (x.restart) {
			int r = part_reset(part);

			if (r) {
				rc = r;
				fetch_why(why, "cannot truncate the download: %s",
					  strerror(-r));
				v = FAIL;
				break;
			}
			x.mixed = false;
			if (!fresh) {
				fresh = true;
				continue;
			}
		}
		if (v == FAIL || retried == o->retries)
			break;
		sleep_ms(backoff_ms(retried++));
	}
	if (v == RETRY && attempts > 1 && why && *why) {
		reason = *why;
		*why = NULL;
		fetch_why(why, "%s (gave up after %u attempts)", reason,
			  attempts);
		free(reason);
	}
out:
	curl_easy_cleanup(x.c);
	free(label);
	return rc;
}
