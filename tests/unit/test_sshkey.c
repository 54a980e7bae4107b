/* Ed25519 keys from a seed: deterministic, RFC 8032's public key, and a
 * file OpenSSH's own ssh-keygen reads, fingerprints and signs with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/sshkey.h"
#include "tmpdir.h"

/* RFC 8032, section 7.1, TEST 1. */
static const unsigned char rfc_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
	0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const unsigned char rfc_pub[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
	0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
	0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};


static void put_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Runs a shell command; its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
	FILE *fp = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	char chunk[4096];
	size_t n;
	int st;

	assert_non_null(fp);
	assert_non_null(mem);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		fwrite(chunk, 1, n, mem);
	st = pclose(fp);
	assert_int_equal(fclose(mem), 0);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

/* The first two space-separated fields: "ssh-ed25519 AAAA...". */
static char *type_and_key(const char *line)
{
	const char *sp = strchr(line, ' ');
	size_t n;
	char *out;

	assert_non_null(sp);
	n = strcspn(sp + 1, " \n") + (size_t)(sp + 1 - line);
	out = strndup(line, n);
	assert_non_null(out);
	return out;
}

/* The 32 key bytes inside public_line's base64 blob. */
static void public_bytes(const char *line, unsigned char pub[32])
{
	static const unsigned char head[] = {
		0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1',
		'9', 0, 0, 0, 32,
	};
	char *tk = type_and_key(line);
	const char *b64 = tk + strlen("ssh-ed25519 ");
	unsigned char blob[128];
	int n;

	assert_int_equal(strncmp(tk, "ssh-ed25519 ", 12), 0);
	assert_int_equal(strlen(b64), 68);	/* 51 bytes, no padding */
	n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));
	assert_int_equal(n, 51);
	assert_memory_equal(blob, head, sizeof(head));
	memcpy(pub, blob + sizeof(head), 32);
	free(tk);
}

static void free_pair(char *priv, char *pub)
{
	if (priv)
		secret_wipe(priv, strlen(priv));
	free(priv);
	free(pub);
}

static void test_rfc8032_public_key(void **state)
{
	unsigned char pub[32];
	char *priv, *line;

	(void)state;
	assert_int_equal(sshkey_ed25519(rfc_seed, "rfc8032", &priv, &line), 0);
	public_bytes(line, pub);
	assert_memory_equal(pub, rfc_pub, sizeof(pub));
	free_pair(priv, line);
}

static void test_deterministic(void **state)
{
	unsigned char seed[32];
	char *p1, *l1, *p2, *l2;

	(void)state;
	memset(seed, 0x42, sizeof(seed));
	assert_int_equal(sshkey_ed25519(seed, "root@node1", &p1, &l1), 0);
	assert_int_equal(sshkey_ed25519(seed, "root@node1", &p2, &l2), 0);
	assert_string_equal(p1, p2);
	assert_string_equal(l1, l2);
	free_pair(p2, l2);

	seed[31] ^= 1;
	assert_int_equal(sshkey_ed25519(seed, "root@node1", &p2, &l2), 0);
	assert_string_not_equal(p1, p2);
	assert_string_not_equal(l1, l2);
	free_pair(p2, l2);

	/* another comment: same key, other text */
	seed[31] ^= 1;
	assert_int_equal(sshkey_ed25519(seed, "root@node2", &p2, &l2), 0);
	assert_string_not_equal(p1, p2);
	assert_string_equal(strrchr(l2, ' '), " root@node2");
	free_pair(p2, l2);
	free_pair(p1, l1);
}

static void test_armour(void **state)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----\n";
	unsigned char blob[512];
	char b64[700] = "";
	char *priv, *line, *p, *nl;
	size_t len;
	int n;

	(void)state;
	assert_int_equal(sshkey_ed25519(rfc_seed, "c", &priv, &line), 0);
	len = strlen(priv);
	assert_int_equal(strncmp(priv, begin, strlen(begin)), 0);
	assert_string_equal(priv + len - strlen(end), end);
	/* 70-character lines, the last one shorter or equal */
	for (p = priv + strlen(begin); p < priv + len - strlen(end); p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_true(nl - p <= 70);
		if (nl + 1 < priv + len - strlen(end))
			assert_int_equal(nl - p, 70);
		strncat(b64, p, (size_t)(nl - p));
	}
	n = EVP_DecodeBlock(blob, (unsigned char *)b64, (int)strlen(b64));
	assert_true(n > 0);
	assert_memory_equal(blob, "openssh-key-v1\0\0\0\0\4none\0\0\0\4none", 31);
	/* the private section: check ints equal, then seed || pub inside */
	{
		const unsigned char *s = blob + 31 + 4 + 4 + 4 + 51;
		uint32_t slen = (uint32_t)s[0] << 24 | s[1] << 16 | s[2] << 8 | s[3];

		assert_int_equal(slen % 8, 0);
		assert_memory_equal(s + 4, s + 8, 4);
		assert_memory_equal(s + 4 + 8 + 51 + 4, rfc_seed, 32);
		assert_memory_equal(s + 4 + 8 + 51 + 4 + 32, rfc_pub, 32);
	}
	secret_wipe(blob, sizeof(blob));
	secret_wipe(b64, sizeof(b64));
	free_pair(priv, line);
}

static void test_rejects(void **state)
{
	unsigned char seed[32] = { 0 };
	char *priv = (char *)1, *line = (char *)1;

	(void)state;
	assert_int_equal(sshkey_ed25519(seed, "a\nb", &priv, &line), -EINVAL);
	assert_null(priv);
	assert_null(line);
	assert_int_equal(sshkey_ed25519(seed, "a\r", &priv, &line), -EINVAL);
	assert_int_equal(sshkey_ed25519(seed, NULL, &priv, &line), -EINVAL);
	assert_int_equal(sshkey_ed25519(NULL, "c", &priv, &line), -EINVAL);
	/* an empty comment: no trailing space */
	assert_int_equal(sshkey_ed25519(seed, "", &priv, &line), 0);
	assert_null(strchr(strchr(line, ' ') + 1, ' '));
	free_pair(priv, line);
}

/* ssh-keygen reads the key, derives the same public key, prints its
 * fingerprint, and signs with it a message the public line verifies. */
static void check_with_ssh_keygen(const char *dir, const unsigned char seed[32],
				  const char *comment)
{
	char *key = join(dir, "id_ed25519"), *pubf = join(dir, "id_ed25519.pub");
	char *signers = join(dir, "allowed_signers"), *msg = join(dir, "msg");
	char *priv, *line, *cmd, *out, *got, *want, *fp_priv, *fp_pub;
	int st;

	assert_int_equal(sshkey_ed25519(seed, comment, &priv, &line), 0);
	put_text(key, priv, 0600);

	assert_true(asprintf(&cmd, "ssh-keygen -y -f '%s' 2>&1", key) >= 0);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	got = type_and_key(out);
	want = type_and_key(line);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(out);
	free(cmd);

	/* the same fingerprint from the private file and the public line */
	assert_true(asprintf(&cmd, "ssh-keygen -l -f '%s' 2>&1", key) >= 0);
	fp_priv = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(fp_priv, "(ED25519)"));
	free(cmd);
	put_text(pubf, line, 0644);
	assert_true(asprintf(&cmd, "ssh-keygen -l -f '%s' 2>&1", pubf) >= 0);
	fp_pub = run(cmd, &st);
	assert_int_equal(st, 0);
	/* "256 SHA256:..." (an empty comment reads "" in one, "no comment"
	 * in the other) */
	got = type_and_key(fp_priv);
	want = type_and_key(fp_pub);
	assert_string_equal(got, want);
	free(got);
	free(want);
	if (*comment)
		assert_non_null(strstr(fp_priv, comment));
	free(fp_priv);
	free(fp_pub);
	free(cmd);

	/* sign with the private file, verify against the public line */
	put_text(msg, "pxeforge\n", 0644);
	assert_true(asprintf(&cmd, "id %s\n", line) >= 0);
	put_text(signers, cmd, 0644);
	free(cmd);
	assert_true(asprintf(&cmd,
			     "ssh-keygen -q -Y sign -f '%s' -n test '%s' 2>&1 && "
			     "ssh-keygen -Y verify -f '%s' -I id -n test -s '%s.sig' <'%s' 2>&1",
			     key, msg, signers, msg, msg) >= 0);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "Good \"test\" signature for id"));
	free(out);
	free(cmd);

	/* ssh-keygen -l -f KEY reads KEY.pub when there is one: the next
	 * call must see its own private file. */
	assert_int_equal(unlink(pubf), 0);
	assert_true(asprintf(&cmd, "%s.sig", msg) >= 0);
	assert_int_equal(unlink(cmd), 0);	/* sign would not overwrite it */
	free(cmd);
	free_pair(priv, line);
	free(key);
	free(pubf);
	free(signers);
	free(msg);
}

static void test_ssh_keygen_reads_it(void **state)
{
	unsigned char seed[32];

	check_with_ssh_keygen(*state, rfc_seed, "root@node1");
	/* a derived seed, an empty comment, and comments of every padding */
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 7 + 3);
	check_with_ssh_keygen(*state, seed, "");
	check_with_ssh_keygen(*state, seed, "a");
	check_with_ssh_keygen(*state, seed, "ab");
	check_with_ssh_keygen(*state, seed, "abcdefg");
	check_with_ssh_keygen(*state, seed, "host key of gpu-node-17.lab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032_public_key),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_armour),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test_setup_teardown(test_ssh_keygen_reads_it,
						setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests_name("sshkey", tests, NULL, NULL);
}
