/* Rules hosts and VMs share: names, sha256 pins, fetched or copied files. */
#include <ctype.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/lib/hex.h"

bool profile_name_valid(const char *s)
{
	if (!*s || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

/* Where pxeforge gets a file for OUT: an http(s) URL pinned by its
 * sha256, or a readable local file (sha256 optional, checked if given). */
void check_fetch_source(const struct pf_str *source, const char *local_path,
			const struct pf_str *sha256, const char *key,
			const struct pf_profile_inputs *in, struct pf_diag *d)
{
	const char *src = source->s;
	int err;

	if (sha256->s && !sha256_hex_valid(sha256->s))
		diag_error(d, &sha256->mark,
			   "invalid sha256 '%s' (64 hex digits, as sha256sum prints)",
			   sha256->s);
	if (!src) {
		if (sha256->s)
			diag_error(d, &sha256->mark,
				   "'sha256' without '%s': it pins the file pxeforge fetches or copies",
				   key);
		return;
	}
	if (strstr(src, "://")) {
		if (strncmp(src, "http://", 7) && strncmp(src, "https://", 8))
			diag_error(d, &source->mark,
				   "%s '%s' is neither an http:// or https:// URL nor a local path",
				   key, src);
		else if (!sha256->s)
			diag_error(d, &source->mark,
				   "%s '%s' needs 'sha256': a download is used only when its hash matches",
				   key, src);
	} else if (local_path && (err = profile_inputs_access(in, local_path)) != 0) {
		diag_error(d, &source->mark, "cannot read %s '%s': %s", key,
			   local_path, strerror(err));
	}
}
