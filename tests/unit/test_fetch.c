/* fetch: downloads from a real HTTP(S) server on 127.0.0.1
 * (tests/fetch/server.py, started here), into a content-addressed cache.
 * The server counts requests and the Range headers it saw (/_stats). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "fixture.h"
#include "slurp.h"
#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outtree.h"

#define BLOB_SIZE (2u * 1024 * 1024)
/* The hash of no file here: never a cache hit. */
#define OTHER_SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct server {
	pid_t pid;
	int stdin_fd;	/* closing it stops the server */
	int port;
	const char *ca;	/* for our own /_stats requests over https */
};

static struct fixture fx;
static char script[PATH_MAX];
static struct server plain;
static unsigned char *blob;
static char blob_sha[65];
static char url[256];

/* ---- the server ---- */

static int server_start(struct server *s, const char *cert, const char *key)
{
	char root[PATH_MAX], line[32] = "";
	struct pollfd pfd;
	int out[2], in[2];
	size_t len = 0;
	ssize_t n;

	snprintf(root, sizeof(root), "%s/www", fx.dir);
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0)
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (cert)
			execlp("python3", "python3", script, "--root", root,
			       "--tls", cert, key, (char *)NULL);
		else
			execlp("python3", "python3", script, "--root", root,
			       (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	/* The port, one line. */
	while (!strchr(line, '\n') && len < sizeof(line) - 1 &&
	       poll(&pfd, 1, 15000) == 1) {
		n = read(out[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(out[0]);
	s->port = strchr(line, '\n') ? atoi(line) : 0;
	s->ca = NULL;
	return s->port > 0 ? 0 : -1;
}

static void server_stop(struct server *s)
{
	if (s->pid <= 0)
		return;
	close(s->stdin_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static size_t to_memstream(char *data, size_t size, size_t n, void *fp)
{
	return fwrite(data, size, n, fp);
}

/* GET path from the server into a malloc'd string. */
static char *http_get(const struct server *s, const char *path)
{
	char u[256], *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	CURL *c = curl_easy_init();
	CURLcode res;

	assert_non_null(mem);
	assert_non_null(c);
	snprintf(u, sizeof(u), "%s://127.0.0.1:%d%s", s->ca ? "https" : "http",
		 s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_memstream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
	if (s->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	res = curl_easy_perform(c);
	curl_easy_cleanup(c);
	fclose(mem);
	assert_int_equal(res, CURLE_OK);
	return text;
}

static json_t *stats_of(const struct server *s)
{
	char *text = http_get(s, "/_stats");
	json_t *j = json_loads(text, 0, NULL);

	free(text);
	assert_non_null(j);
	return j;
}

/* How many requests the server saw for path. */
static int count_of(const char *path)
{
	json_t *j = stats_of(&plain);
	json_t *e = json_object_get(j, path);
	int n = e ? (int)json_integer_value(json_object_get(e, "count")) : 0;

	json_decref(j);
	return n;
}

static int total_requests(const struct server *s)
{
	json_t *j = stats_of(s), *e;
	const char *k;
	int n = 0;

	json_object_foreach(j, k, e)
		n += (int)json_integer_value(json_object_get(e, "count"));
	json_decref(j);
	return n;
}

/* The Range headers of path's requests, "-" for none: "-,bytes=5-". */
static char *ranges_of(const char *path)
{
	json_t *j = stats_of(&plain), *e, *r;
	char *out = NULL;
	size_t len = 0, i;
	FILE *mem = open_memstream(&out, &len);

	assert_non_null(mem);
	e = json_object_get(json_object_get(j, path), "ranges");
	json_array_foreach(e, i, r)
		fprintf(mem, "%s%s", i ? "," : "", json_is_string(r) ?
			json_string_value(r) : "-");
	fclose(mem);
	json_decref(j);
	return out;
}

static void assert_ranges(const char *path, const char *want)
{
	char *got = ranges_of(path);

	assert_string_equal(got, want);
	free(got);
}

static const char *url_of(const struct server *s, const char *path)
{
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		 s == &plain ? "http" : "https", s->port, path);
	return url;
}

/* ---- files ---- */

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Entries in dir other than . and ..; 0 when dir is missing. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void assert_cache_empty(void)
{
	assert_int_equal(entries("cache/partial"), 0);
	assert_int_equal(entries("cache/sha256"), 0);
}

/* The cache holds exactly the blob, under its hash. */
static void assert_cached_blob(const char *path)
{
	char want[PATH_MAX];
	unsigned char *data;
	struct stat st;
	size_t len;

	snprintf(want, sizeof(want), "cache/sha256/%s", blob_sha);
	assert_string_equal(path, want);
	data = (unsigned char *)slurp(path, &len);
	assert_int_equal(len, BLOB_SIZE);
	assert_memory_equal(data, blob, BLOB_SIZE);
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(entries("cache/partial"), 0);
	assert_int_equal(entries("cache/sha256"), 1);
}

static void part_path(char *buf, size_t size)
{
	snprintf(buf, size, "cache/partial/%s.part", blob_sha);
}

/* A fetch that worked, leaving no reason; else its reason is shown. */
#define assert_fetched(call, why)                                         \
	do {                                                              \
		int rc_ = (call);                                         \
		if (rc_ || (why))                                         \
			print_message("fetch: %d, %s\n", rc_,             \
				      (why) ? (why) : "(no reason)");     \
		assert_int_equal(rc_, 0);                                 \
		assert_null(why);                                         \
	} while (0)

/* ---- stderr capture ---- */

static int capture_begin(void)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	fd = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	return saved;
}

static char *capture_end(int saved)
{
	unsigned char *text;
	size_t len;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = (unsigned char *)slurp("stderr.txt", &len);
	text[len] = '\0';
	return (char *)text;
}

/* ---- setup ---- */

static void opts(struct pf_fetch_opts *o)
{
	fetch_opts_init(o);
	o->cache_dir = "cache";
}

static int group_setup(void **state)
{
	const char *env = getenv("PXEFORGE_TEST_FETCH_SERVER");
	uint32_t x = 2463534242u;

	if (!realpath(env ? env : "tests/fetch/server.py", script))
		return -1;
	if (fixture_enter(&fx, "fetch", "") != 0 || mkdir("www", 0755) != 0)
		return -1;
	blob = malloc(BLOB_SIZE);
	if (!blob)
		return -1;
	for (size_t i = 0; i < BLOB_SIZE; i++) {	/* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		blob[i] = (unsigned char)x;
	}
	write_bytes("www/blob", blob, BLOB_SIZE);
	write_bytes("www/empty", "", 0);
	if (sha256_hex(blob, BLOB_SIZE, blob_sha) != 0)
		return -1;
	/* A proxy from the environment would see our requests instead. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("PXEFORGE_FETCH_BACKOFF_MS", "10", 1);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	return server_start(&plain, NULL, NULL);
}

static int group_teardown(void **state)
{
	server_stop(&plain);
	free(blob);
	fetch_global_cleanup();
	curl_global_cleanup();
	return fixture_leave(&fx);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* A fresh cache and fresh server counts for each test. */
static int test_setup(void **state)
{
	free(http_get(&plain, "/_reset"));
	return 0;
}

static int test_teardown(void **state)
{
	struct stat st;

	if (stat("cache", &st) == 0 &&
	    nftw("cache", rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return -1;
	return 0;
}

/* ---- tests ---- */

static void test_opts_defaults(void **state)
{
	struct pf_fetch_opts o;

	fetch_opts_init(&o);
	assert_null(o.cache_dir);
	assert_null(o.ca_file);
	assert_false(o.progress);
	assert_int_equal(o.retries, 3);
	assert_int_equal(o.connect_timeout_s, 30);
	assert_int_equal(o.low_speed_limit, 1024);
	assert_int_equal(o.low_speed_time_s, 60);
	assert_true(fetch_is_url("http://x/y"));
	assert_true(fetch_is_url("HTTPS://x/y"));
	assert_false(fetch_is_url("ftp://x/y"));
	assert_false(fetch_is_url("file:///x"));
	assert_false(fetch_is_url("/boot/vmlinuz"));
	assert_false(fetch_is_url("http:/x"));
	assert_false(fetch_is_url(NULL));
}

static void test_cache_dir(void **state)
{
	char *dir = NULL, *why = NULL;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	assert_int_equal(fetch_cache_dir("/c", &dir, &why), 0);
	assert_string_equal(dir, "/c");
	free(dir);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(fetch_cache_dir(NULL, &dir, &why), 0);
	assert_string_equal(dir, "/xdg/pxeforge");
	free(dir);
	/* The XDG spec: a relative path is invalid and ignored. */
	setenv("XDG_CACHE_HOME", "rel", 1);
	assert_int_equal(fetch_cache_dir(NULL, &dir, &why), 0);
	assert_string_equal(dir, "/home/u/.cache/pxeforge");
	free(dir);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(fetch_cache_dir(NULL, &dir, &why), -ENOENT);
	assert_null(dir);
	assert_string_equal(why, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
	free(why);
	why = NULL;
	assert_int_equal(fetch_cache_dir("", &dir, &why), -EINVAL);
	assert_string_equal(why, "empty cache directory");
	free(why);
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void test_rejects_arguments(void **state)
{
	static const char *const bad_sha[] = {
		"", "abc",
		"2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c52543480",
		"2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c5254348066",
		"2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c52543480g",
	};
	static const char *const bad_url[] = {
		"ftp://127.0.0.1/blob", "file:///etc/hostname", "www/blob",
		"http://", "http://exa mple/x",
	};
	struct pf_fetch_opts o;
	char *path = (char *)"unset", *why = NULL;

	opts(&o);
	for (size_t i = 0; i < sizeof(bad_sha) / sizeof(*bad_sha); i++) {
		assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/blob"),
					      bad_sha[i], &path, &why), -EINVAL);
		assert_null(path);
		assert_non_null(strstr(why, "invalid sha256 '"));
		assert_non_null(strstr(why, "' (64 hex digits expected)"));
		free(why);
	}
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/blob"), NULL,
				      &path, &why), -EINVAL);
	free(why);
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(*bad_url); i++) {
		assert_int_equal(fetch_cached(&o, bad_url[i], blob_sha, &path,
					      &why), -EINVAL);
		assert_true(strcmp(why, "not an http or https url") == 0 ||
			    strcmp(why, "invalid url") == 0);
		free(why);
	}
	assert_int_equal(total_requests(&plain), 0);
	assert_int_equal(entries("cache"), 0);
}

static void test_fetch_then_hit(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *path2 = NULL, *why = NULL, upper[65];

	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_null(why);
	assert_cached_blob(path);
	assert_int_equal(count_of("/ok/blob"), 1);
	/* A hit is answered from the cache without a request, whatever the
	 * case of the hash. */
	for (int i = 0; i < 65; i++)
		upper[i] = (char)toupper((unsigned char)blob_sha[i]);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), upper,
				      &path2, &why), why);
	assert_string_equal(path2, path);
	assert_int_equal(count_of("/ok/blob"), 1);
	free(path);
	free(path2);
	/* Outputs are optional. */
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      NULL, NULL), 0);
	assert_int_equal(total_requests(&plain), 1);
}

static void test_empty_file(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL, sha[65];
	struct stat st;

	opts(&o);
	assert_int_equal(sha256_hex("", 0, sha), 0);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/empty"), sha,
				      &path, &why), why);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	free(path);
}

static void test_default_cache_dir(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL, want[PATH_MAX + 128], xdg[PATH_MAX];

	fetch_opts_init(&o);	/* cache_dir NULL: the XDG one */
	snprintf(xdg, sizeof(xdg), "%s/cache/xdg", fx.dir);
	setenv("XDG_CACHE_HOME", xdg, 1);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	unsetenv("XDG_CACHE_HOME");
	snprintf(want, sizeof(want), "%s/pxeforge/sha256/%s", xdg, blob_sha);
	assert_string_equal(path, want);
	free(path);
}

static void test_cache_unusable(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	o.cache_dir = "www/blob/cache";	/* under a file */
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), -ENOTDIR);
	assert_string_equal(why, "cannot create 'www/blob/cache/sha256': Not a directory");
	assert_null(path);
	free(why);
	assert_int_equal(total_requests(&plain), 0);
}

static void test_mismatch(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL, want[256], wrong_sha[65];

	blob[0] ^= 0xff;
	assert_int_equal(sha256_hex(blob, BLOB_SIZE, wrong_sha), 0);
	blob[0] ^= 0xff;
	opts(&o);
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/wrong/blob"),
				      blob_sha, &path, &why), -EBADMSG);
	snprintf(want, sizeof(want), "sha256 mismatch: expected %s, got %s",
		 blob_sha, wrong_sha);
	assert_string_equal(why, want);
	assert_null(path);
	free(why);
	/* Not retried: the same bytes would come again. */
	assert_int_equal(count_of("/wrong/blob"), 1);
	assert_cache_empty();
}

static void test_http_404(void **state)
{
	struct pf_fetch_opts o;
	char *why = NULL;

	opts(&o);
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/nothing"),
				      blob_sha, NULL, &why), -EIO);
	assert_string_equal(why, "HTTP 404");
	free(why);
	assert_int_equal(count_of("/ok/nothing"), 1);
	assert_cache_empty();
}

static void test_http_500_retried(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/500-once/blob"),
				      blob_sha, &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/500-once/blob", "-,-");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_http_503_gives_up(void **state)
{
	struct pf_fetch_opts o;
	char *why = NULL;
	double t0;

	opts(&o);
	o.retries = 2;
	/* Back-off doubles from the base: 100 + 200 ms at least. */
	setenv("PXEFORGE_FETCH_BACKOFF_MS", "100", 1);
	t0 = now_s();
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/503/blob"),
				      blob_sha, NULL, &why), -EIO);
	assert_true(now_s() - t0 >= 0.3);
	setenv("PXEFORGE_FETCH_BACKOFF_MS", "10", 1);
	assert_string_equal(why, "HTTP 503 (gave up after 3 attempts)");
	free(why);
	assert_int_equal(count_of("/503/blob"), 3);
	assert_cache_empty();
}

static void test_dns_failure(void **state)
{
	struct pf_fetch_opts o;
	char *why = NULL;

	opts(&o);
	assert_int_equal(fetch_cached(&o, "http://pxeforge-test.invalid/blob",
				      blob_sha, NULL, &why), -EIO);
	/* Not retried: a name that does not resolve stays so. */
	assert_string_equal(why, "could not resolve host 'pxeforge-test.invalid'");
	free(why);
	assert_cache_empty();
}

static void test_connection_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct pf_fetch_opts o;
	char u[128], want[128], *why = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was free a moment ago, and closed now. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok/blob", ntohs(a.sin_port));
	opts(&o);
	o.retries = 1;
	assert_int_equal(fetch_cached(&o, u, blob_sha, NULL, &why), -EIO);
	snprintf(want, sizeof(want),
		 "could not connect to '127.0.0.1:%d' (gave up after 2 attempts)",
		 ntohs(a.sin_port));
	assert_string_equal(why, want);
	free(why);
	assert_cache_empty();
}

static void test_resume_after_drop(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/drop-once/blob"),
				      blob_sha, &path, &why), why);
	assert_null(why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/drop-once/blob", "-,bytes=1048576-");
}

static void test_drop_always_gives_up(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	o.retries = 2;
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/drop-always/blob"),
				      blob_sha, &path, &why), -EIO);
	/* Each answer stops halfway: 1/2, 3/4, 7/8 of the file. */
	assert_string_equal(why, "connection closed after 1835008 of 2097152 bytes (gave up after 3 attempts)");
	assert_null(path);
	free(why);
	assert_ranges("/drop-always/blob", "-,bytes=1048576-,bytes=1572864-");
	assert_cache_empty();
}

static void test_range_ignored(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	/* The second answer is 200 with the whole file: start over. */
	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/drop-once-norange/blob"),
				      blob_sha, &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/drop-once-norange/blob", "-,bytes=1048576-");
}

static void test_resume_killed_run(void **state)
{
	struct pf_fetch_opts o;
	char part[PATH_MAX], *path = NULL, *why = NULL;

	/* What a run killed after 1000000 bytes leaves. */
	assert_int_equal(mkdir("cache", 0755), 0);
	assert_int_equal(mkdir("cache/partial", 0755), 0);
	part_path(part, sizeof(part));
	write_bytes(part, blob, 1000000);
	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/ok/blob", "bytes=1000000-");
}

static void test_resume_stale_part(void **state)
{
	struct pf_fetch_opts o;
	char part[PATH_MAX], junk[1000], *path = NULL, *why = NULL;

	/* Bytes that are not the file's: resumed, the hash is wrong, the
	 * whole file is fetched once more. */
	memset(junk, 0x55, sizeof(junk));
	assert_int_equal(mkdir("cache", 0755), 0);
	assert_int_equal(mkdir("cache/partial", 0755), 0);
	part_path(part, sizeof(part));
	write_bytes(part, junk, sizeof(junk));
	opts(&o);
	o.retries = 0;
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/ok/blob", "bytes=1000-,-");
}

static void test_resume_part_too_long(void **state)
{
	struct pf_fetch_opts o;
	char part[PATH_MAX], *path = NULL, *why = NULL;
	unsigned char *longer = calloc(1, BLOB_SIZE + 10);

	/* 416 for a range past the end: start over. */
	assert_non_null(longer);
	memcpy(longer, blob, BLOB_SIZE);
	assert_int_equal(mkdir("cache", 0755), 0);
	assert_int_equal(mkdir("cache/partial", 0755), 0);
	part_path(part, sizeof(part));
	write_bytes(part, longer, BLOB_SIZE + 10);
	free(longer);
	opts(&o);
	o.retries = 0;
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_ranges("/ok/blob", "bytes=2097162-,-");
}

static void test_complete_part(void **state)
{
	struct pf_fetch_opts o;
	char part[PATH_MAX], *path = NULL, *why = NULL;

	/* Killed between the last byte and the rename: no request. */
	assert_int_equal(mkdir("cache", 0755), 0);
	assert_int_equal(mkdir("cache/partial", 0755), 0);
	part_path(part, sizeof(part));
	write_bytes(part, blob, BLOB_SIZE);
	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_int_equal(total_requests(&plain), 0);
}

static void test_redirects(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	assert_fetched(fetch_cached(&o, url_of(&plain, "/redirect/5/blob"),
				      blob_sha, &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_int_equal(count_of("/ok/blob"), 1);
	assert_int_equal(count_of("/redirect/1/blob"), 1);
}

static void test_redirect_limit(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	opts(&o);
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/redirect/6/blob"),
				      blob_sha, &path, &why), -EIO);
	assert_string_equal(why, "too many redirects (more than 5)");
	free(why);
	/* Five followed; the sixth, from /redirect/1/, is not. */
	assert_int_equal(count_of("/redirect/1/blob"), 1);
	assert_int_equal(count_of("/ok/blob"), 0);
	assert_cache_empty();
}

static void test_redirect_to_file(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL;

	/* The right bytes, through a file:// redirect: refused. */
	opts(&o);
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/to-file/blob"),
				      blob_sha, &path, &why), -EIO);
	assert_string_equal(why, "redirected to a protocol other than http or https");
	free(why);
	assert_null(path);
	assert_cache_empty();
}

static void test_stall(void **state)
{
	struct pf_fetch_opts o;
	char *why = NULL;
	double t0 = now_s();

	opts(&o);
	o.retries = 0;
	o.low_speed_time_s = 1;
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/stall/blob"),
				      blob_sha, NULL, &why), -EIO);
	assert_string_equal(why, "transfer stalled: less than 1024 bytes/s for 1 s");
	free(why);
	assert_true(now_s() - t0 < 10);
	assert_cache_empty();
}

static void make_cert(const char *name, const char *cn, const char *san)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		 "-nodes -days 2 -subj /CN=%s -addext subjectAltName=%s "
		 "-keyout %s.key -out %s.pem >/dev/null 2>&1", cn, san, name,
		 name);
	assert_int_equal(system(cmd), 0);
}

static void test_tls_verified(void **state)
{
	struct server ok = { 0 }, other = { 0 };
	struct pf_fetch_opts o;
	char ca[PATH_MAX], *path = NULL, *why = NULL;

	make_cert("local", "127.0.0.1", "IP:127.0.0.1");
	make_cert("other", "other.invalid", "DNS:other.invalid");
	assert_int_equal(server_start(&ok, "local.pem", "local.key"), 0);
	assert_int_equal(server_start(&other, "other.pem", "other.key"), 0);
	snprintf(ca, sizeof(ca), "%s/local.pem", fx.dir);
	ok.ca = ca;
	opts(&o);

	/* Self-signed, not in the system's store: refused, no request. */
	assert_int_equal(fetch_cached(&o, url_of(&ok, "/ok/blob"), blob_sha,
				      &path, &why), -EIO);
	assert_string_equal(why, "tls certificate verification failed: self-signed certificate");
	free(why);
	assert_int_equal(total_requests(&ok), 0);
	assert_cache_empty();

	/* Trusted, for the name it was issued to: fetched. */
	o.ca_file = "local.pem";
	assert_fetched(fetch_cached(&o, url_of(&ok, "/ok/blob"), blob_sha,
				      &path, &why), why);
	assert_cached_blob(path);
	free(path);
	assert_int_equal(total_requests(&ok), 1);
	assert_int_equal(test_teardown(NULL), 0);

	/* Trusted, but issued to another name: refused. */
	o.ca_file = "other.pem";
	assert_int_equal(fetch_cached(&o, url_of(&other, "/ok/blob"), blob_sha,
				      &path, &why), -EIO);
	assert_string_equal(why, "tls certificate verification failed: certificate does not match host '127.0.0.1'");
	free(why);
	assert_cache_empty();
	server_stop(&ok);
	server_stop(&other);
}

static void test_progress_silent(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL, *err;
	int saved;

	opts(&o);
	saved = capture_begin();
	assert_fetched(fetch_cached(&o, url_of(&plain, "/slow/blob"),
				      blob_sha, &path, &why), why);
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/nothing"),
				      OTHER_SHA, NULL, &why), -EIO);
	err = capture_end(saved);
	assert_string_equal(err, "");
	free(err);
	free(why);
	free(path);
}

static void test_progress_bar(void **state)
{
	struct pf_fetch_opts o;
	char *path = NULL, *why = NULL, *err, *last;
	int saved;

	opts(&o);
	o.progress = true;
	saved = capture_begin();
	assert_fetched(fetch_cached(&o, url_of(&plain, "/slow/blob"),
				      blob_sha, &path, &why), why);
	err = capture_end(saved);
	assert_cached_blob(path);
	free(path);
	/* Redrawn in place, more than once, ending complete on its line. */
	assert_true(err[0] == '\r');
	assert_non_null(strchr(err + 1, '\r'));
	assert_non_null(strstr(err, "\rblob  "));
	last = strrchr(err, '\r');
	assert_non_null(strstr(last, "2.0 MiB / 2.0 MiB  100%  "));
	assert_non_null(strstr(last, " MiB/s  ETA 0:00"));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
	free(err);

	/* A failure before any byte draws nothing. */
	saved = capture_begin();
	assert_int_equal(fetch_cached(&o, url_of(&plain, "/ok/nothing"),
				      OTHER_SHA, NULL, &why), -EIO);
	err = capture_end(saved);
	assert_string_equal(err, "");
	free(err);
	free(why);
}

static void assert_format(uint64_t done, uint64_t total, uint64_t base,
			  double secs, const char *want)
{
	char buf[128];

	assert_int_equal(progress_format(buf, sizeof(buf), done, total, base,
					 secs), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_progress_format(void **state)
{
	assert_format(1048576, 2097152, 0, 0.5,
		      "1.0 MiB / 2.0 MiB   50%  2.0 MiB/s  ETA 0:01");
	assert_format(1536, 0, 0, 1.0, "1.5 KiB  1.5 KiB/s");
	assert_format(0, 100, 0, 0, "0 B / 100 B    0%  --/s  ETA --:--");
	/* Resumed bytes are not part of the rate. */
	assert_format(3u << 20, 4u << 20, 2u << 20, 1.0,
		      "3.0 MiB / 4.0 MiB   75%  1.0 MiB/s  ETA 0:01");
	assert_format(1024, 10ull << 30, 0, 1.0,
		      "1.0 KiB / 10.0 GiB    0%  1.0 KiB/s  ETA 2912:42:39");
	/* A server that sends more than it announced. */
	assert_format(200, 100, 0, 1.0, "200 B / 100 B  100%  200 B/s  ETA 0:00");
}

static void test_concurrent(void **state)
{
	struct pf_fetch_opts o;
	pid_t kids[2];
	int status;

	/* Two processes, one cache, one slow file: one download, both get
	 * the verified file. */
	opts(&o);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			char *path = NULL;
			int rc = fetch_cached(&o, url_of(&plain, "/slow/blob"),
					      blob_sha, &path, NULL);

			_exit(rc == 0 && path ? 0 : 1);
		}
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(count_of("/slow/blob"), 1);
	assert_int_equal(entries("cache/partial"), 0);
	assert_int_equal(entries("cache/sha256"), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_opts_defaults),
		T(test_cache_dir),
		T(test_rejects_arguments),
		T(test_fetch_then_hit),
		T(test_empty_file),
		T(test_default_cache_dir),
		T(test_cache_unusable),
		T(test_mismatch),
		T(test_http_404),
		T(test_http_500_retried),
		T(test_http_503_gives_up),
		T(test_dns_failure),
		T(test_connection_refused),
		T(test_resume_after_drop),
		T(test_drop_always_gives_up),
		T(test_range_ignored),
		T(test_resume_killed_run),
		T(test_resume_stale_part),
		T(test_resume_part_too_long),
		T(test_complete_part),
		T(test_redirects),
		T(test_redirect_limit),
		T(test_redirect_to_file),
		T(test_stall),
		T(test_tls_verified),
		T(test_progress_silent),
		T(test_progress_bar),
		T(test_progress_format),
		T(test_concurrent),
	};
	const char *only = getenv("PXEFORGE_TEST_FILTER");	/* "test_tls*" */

	if (only)
		cmocka_set_test_filter(only);

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
