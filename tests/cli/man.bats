#!/usr/bin/env bats
# The man pages: they render without a warning, pxeforge(1) documents every
# command and option the binary has, and `make install` puts them in place.

load helpers

# man_text PAGE: the page as man shows it, without hyphenation or
# justification getting in the way of a grep.
man_text() {
	MANWIDTH=1000 MAN_KEEP_FORMATTING= man --nh --nj -l "$1" 2>/dev/null | col -b
}

@test "pxeforge.1 renders with no warning (groff -ww, man --warnings)" {
	run groff -man -ww -z man/pxeforge.1
	assert_success
	assert_output ''
	run sh -c 'man --warnings -l man/pxeforge.1 2>&1 >/dev/null'
	assert_success
	assert_output ''
	# and says something: the NAME line
	man_text man/pxeforge.1 >"$TMP/page"
	grep -q '^ *pxeforge - netboot artifacts' "$TMP/page"
}

@test "pxeforge.1 documents every command of --help and every option of each" {
	man_text man/pxeforge.1 >"$TMP/page"
	cmds=$("$PXEFORGE" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	[ "$(echo "$cmds" | wc -l)" -ge 6 ] || fail "commands not found in --help: $cmds"
	for cmd in $cmds; do
		# its subsection under COMMANDS: "   build PROFILE" up to the next one
		sed -n "/^   $cmd\\( \\|\$\\)/,/^   [a-zA-Z]/p" "$TMP/page" >"$TMP/section"
		[ -s "$TMP/section" ] || fail "no section for '$cmd' in pxeforge.1"
		grep -q "^pxeforge $cmd\\b\\|^ *pxeforge $cmd\\b" "$TMP/page" ||
			fail "'$cmd' not in the SYNOPSIS"
		# each "-o, --output" of the command's --help, but --help itself
		"$PXEFORGE" "$cmd" --help |
			sed -n 's/^  \(-[A-Za-z], --[a-z-]*\).*/\1/p' | grep -v -- '--help$' |
			while read -r opt; do
				grep -qF -- "$opt" "$TMP/section" ||
					{ echo "'$cmd $opt' not documented in pxeforge.1" >&2; exit 1; }
			done || fail "options missing"
	done
	for word in 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES 'SEE ALSO' \
		SOURCE_DATE_EPOCH PXEFORGE_PCI_IDS PXEFORGE_FETCH_BACKOFF_MS 'pxeforge-profile(5)'; do
		grep -qF "$word" "$TMP/page" || fail "pxeforge.1 lacks '$word'"
	done
}

@test "make install puts the binary and the man pages below DESTDIR/PREFIX" {
	run make --no-print-directory -s install DESTDIR="$TMP/root" PREFIX=/usr
	assert_success
	[ -x "$TMP/root/usr/bin/pxeforge" ]
	run "$TMP/root/usr/bin/pxeforge" --version
	assert_success
	assert_output --regexp '^pxeforge [0-9]+\.[0-9]+\.[0-9]+$'
	[ "$(stat -c %a "$TMP/root/usr/share/man/man1/pxeforge.1")" = 644 ]
	cmp man/pxeforge.1 "$TMP/root/usr/share/man/man1/pxeforge.1"
	# man finds it there by name
	run man --manpath="$TMP/root/usr/share/man" -w pxeforge
	assert_success
	assert_output "$TMP/root/usr/share/man/man1/pxeforge.1"
	# pxeforge-profile(5) is generated from the key tables; installed
	# whenever the tree has it (only a tree without it may lack it here)
	if [ -f man/pxeforge-profile.5 ]; then
		cmp man/pxeforge-profile.5 "$TMP/root/usr/share/man/man5/pxeforge-profile.5"
		run man --manpath="$TMP/root/usr/share/man" -w 5 pxeforge-profile
		assert_success
	else
		[ ! -e "$TMP/root/usr/share/man/man5/pxeforge-profile.5" ]
	fi
	# nothing else
	run find "$TMP/root" -type f
	[ "${#lines[@]}" -eq $((2 + $([ -f man/pxeforge-profile.5 ] && echo 1 || echo 0))) ] ||
		fail "unexpected files: $output"
}

@test "docs/cli.md lists every command of --help with each option" {
	for cmd in $("$PXEFORGE" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
		grep -q "^    pxeforge $cmd\\b" docs/cli.md || fail "'$cmd' not in docs/cli.md's command list"
		"$PXEFORGE" "$cmd" --help |
			sed -n 's/^  \(-[A-Za-z], --[a-z-]*\).*/\1/p' | grep -v -- '--help$' |
			while read -r opt; do
				grep -qF -- "\`$opt" docs/cli.md ||
					{ echo "'$cmd $opt' not in docs/cli.md" >&2; exit 1; }
			done || fail "options missing from docs/cli.md"
	done
}
