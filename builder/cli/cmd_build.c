#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/package/bundle.h"
#include "cli.h"
#include "messages.h"
#include "options.h"
#include "pxeforge/out/inputs.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outwriter.h"
#include "pxeforge/package/filter.h"
#include "pxeforge/package/package.h"

struct build_values {
	const char *output, *bundle, *cache;
	struct cli_args hosts;
	bool quiet;
};

static const struct cli_option build_options[] = {
	CLI_OPT_ARG('o', "output", "OUT", struct build_values, output,
		    "output directory (created if missing)"),
	CLI_OPT_ARG('b', "bundle", "FILE", struct build_values, bundle,
		    "then write all of OUT (manifest.json and secrets\n"
		    "included) to FILE, a tar archive compressed by\n"
		    "its extension: .tar.zst or .tzst (zstd level 10),\n"
		    ".tar.gz or .tgz (gzip). Byte-identical for the same\n"
		    "inputs: sorted entries, owner root (0:0), mtime\n"
		    "SOURCE_DATE_EPOCH. Mode 0600 when OUT has secrets.\n"
		    "Not packed again while FILE is still the archive\n"
		    "written from the same OUT (OUT/.pxeforge-bundles.json)."),
	CLI_OPT_ARG('c', "cache", "DIR", struct build_values, cache,
		    "where downloads are kept by their sha256 (default:\n"
		    "$XDG_CACHE_HOME/pxeforge or ~/.cache/pxeforge)"),
	CLI_OPT_LIST('H', "host", "NAME", struct build_values, hosts,
		     "build only this host (repeatable): its files, its\n"
		     "VMs' and the fleet-wide ones (boot.ipxe, kubevirt/),\n"
		     "which come from the whole profile; the other hosts'\n"
		     "and VMs' files in OUT are left as they are"),
	CLI_OPT_FLAG('q', "quiet", struct build_values, quiet,
		     "no progress bar, no summary line (the bar is drawn\n"
		     "only when stderr is a terminal)"),
};

static const struct cli_command_opts build_cli = {
	.command = "build",
	.usage =
	"usage: pxeforge build PROFILE [-o OUT] [--host NAME]... [--bundle FILE]\n"
	"                      [--cache DIR] [-q]\n"
	"\n"
	"Validates PROFILE and writes every artifact for every host into OUT\n"
	"(default: out):\n"
	"  OUT/boot.ipxe                  dispatcher: chains hosts/<mac>.ipxe\n"
	"  OUT/hosts/<mac>.ipxe           the host's script, one copy per MAC\n"
	"  OUT/<host>/netboot.ipxe        kernel line, initrd lines, boot\n"
	"  OUT/<host>/cmdline             the exact kernel command line\n"
	"  OUT/<host>/modprobe.d/vfio.conf, modules-load.d/vfio.conf\n"
	"  OUT/<host>/nixos/boot.nix      boot.kernelParams, boot.initrd.kernelModules\n"
	"  OUT/<host>/overlay.cpio.gz     initrd overlay loaded after the host's initrds:\n"
	"                                 etc/modprobe.d, etc/modules-load.d and, with\n"
	"                                 modules_dir, the modules' closure (.zst with\n"
	"                                 overlay_compression: zstd) and, with\n"
	"                                 cloud_init seed: overlay, the NoCloud seed\n"
	"  OUT/<host>/cloud-init/         user-data (0600), meta-data, network-config:\n"
	"                                 NoCloud payloads for hosts with cloud_init\n"
	"  OUT/<host>/cidata.iso          the same seed on a volume labelled cidata,\n"
	"                                 only with cloud_init seed: iso (virtual media)\n"
	"  OUT/<host>/<kernel, initrds>   the files whose 'source' the profile gives\n"
	"  OUT/vms/<vm>/                  per VM (vms[]): vm.yaml (KubeVirt, with a\n"
	"                                 containerdisk), domain.xml (libvirt),\n"
	"                                 opennebula.tmpl, disk.<format> (a disk image),\n"
	"                                 containerdisk.tar (image and containerdisk:\n"
	"                                 an OCI archive for skopeo copy), cloud-init/\n"
	"                                 and cidata.iso\n"
	"  OUT/kubevirt/permitted-host-devices.yaml  the fleet's devices for KubeVirt\n"
	"  OUT/manifest.json              path, size and sha256 of every file but the\n"
	"                                 secrets (mode 0600)\n"
	"\n"
	"A 'source' that is an http(s) URL is downloaded into the cache (resumed,\n"
	"retried, TLS verified) and used only when it matches its 'sha256'; a\n"
	"local source with a 'sha256' is checked while it is copied, before\n"
	"anything in OUT is replaced. A failed download or a wrong hash exits 3,\n"
	"naming the URL or file and why, and leaves OUT and the cache as they\n"
	"were.\n"
	"\n"
	"With --host, the named hosts' files and those of the VMs that take\n"
	"their GPUs are rendered and written; boot.ipxe and kubevirt/ are\n"
	"rendered from the whole profile; every file an earlier build wrote for\n"
	"another host or VM of the profile is left as it is. An unknown name is\n"
	"a usage error (exit 2) with the closest host name.\n"
	"\n"
	"Nothing is written unless the whole profile is valid. The tree is\n"
	"written into .OUT.pxeforge-stage beside OUT, synced once and switched\n"
	"in atomically (renameat2 RENAME_EXCHANGE), so OUT is always one whole\n"
	"build: a failure or a kill leaves it as it was. Unchanged files are\n"
	"hard-linked from OUT (same inode, mtime too); a rebuild that changes\n"
	"nothing leaves OUT untouched. A second build into OUT waits for the\n"
	"first (.OUT.pxeforge-lock). Files an earlier build wrote (listed in\n"
	"OUT/manifest.json or OUT/.pxeforge-state.json) that this build does\n"
	"not are removed; files pxeforge never wrote are kept, with a warning.\n"
	"Archive entries get uid/gid 0 and the mtime SOURCE_DATE_EPOCH, else\n"
	"the profile's source_date_epoch, else 0.\n",
	.epilogue =
	"Exit status: 0 ok, 1 invalid profile, 2 usage (an unknown --host too),\n"
	"3 I/O error.\n",
	.options = build_options,
	.noptions = sizeof(build_options) / sizeof(build_options[0]),
	.args = "PROFILE", .min_args = 1, .max_args = 1,
};

/* The build's chunks go into the writer one host at a time, so memory
 * holds one host's files, not the fleet's. */
struct build_sink {
	struct pf_outwriter *w;
	bool put_failed;	/* the failure was the writer's, not package's */
};

static int build_put(struct pf_outtree *chunk, void *ctx, char **failed)
{
	struct build_sink *s = ctx;
	int rc = outwriter_put(s->w, chunk, failed);

	s->put_failed = rc != 0;
	return rc;
}

/* With --host: only the inputs of the selected hosts and VMs are
 * fetched and written; the others' copies in OUT are kept (keep_prev). */
static void inputs_keep_selected(struct pf_inputs *in,
				 const struct pf_package_filter *f)
{
	size_t k = 0;

	for (size_t i = 0; i < in->n; i++) {
		if (package_filter_keeps(in->v[i].out, (void *)f)) {
			free(in->v[i].out);
			free(in->v[i].path);
			continue;
		}
		in->v[k++] = in->v[i];
	}
	in->n = k;
}

static bool build_keeps(const char *path, void *ctx)
{
	return package_filter_keeps(path, ctx);
}

/* A source that could not be fetched, read or made into its file. */
static int report_sources(int rc, const struct pf_input *bad, const char *why)
{
	if (bad && bad->is_url)
		cli_error("cannot fetch '%s': %s", bad->source,
			  why ? why : strerror(-rc));
	else if (bad)
		cli_error("source '%s': %s", bad->source,
			  why ? why : strerror(-rc));
	else
		cli_error("cannot collect sources: %s", strerror(-rc));
	return PF_EXIT_IO;
}

/* A failed put or commit, said once. */
static int report_write(int rc, const char *out, const struct pf_outstats *st,
			const char *failed)
{
	if (rc == -EBADMSG && failed)
		/* a pinned source (or its cached copy) with other bytes */
		cli_error("source '%s': " PF_SHA256_MISMATCH,
			  failed, st->pin_want, st->pin_got);
	else if (rc == -EOPNOTSUPP && !st->source_failed)
		cli_error("cannot switch '%s' into place: its file system cannot "
			  "exchange two directories atomically (renameat2 "
			  "RENAME_EXCHANGE); '%s' is as it was", out, out);
	else
		cli_error("cannot %s '%s': %s",
			  st->source_failed ? "read" : "write",
			  failed ? failed : out, strerror(-rc));
	return PF_EXIT_IO;
}

int cmd_build(int argc, char **argv)
{
	struct build_values o = { .output = "out" };
	const char *out, *bundle;
	const struct pf_input *bad_input = NULL;
	struct pf_fetch_opts fo;
	struct pf_inputs inputs;
	struct pf_cdisk_opts *cdisk_opts = NULL;
	struct pf_outwriter_opts wo = { .note = cli_outnote };
	struct build_sink sink = { NULL, false };
	char *why = NULL;
	struct pf_bundle_result br;
	struct pf_outstats st = { 0 };
	struct pf_outtree tree, listed;
	struct pf_profile *p = NULL;
	struct pf_plan *plan = NULL;
	struct pf_package_filter *only = NULL;
	char *failed = NULL;
	bool quiet;
	int nargs, rc, code;

	/* past `ulimit -f` write() fails with EFBIG, named, OUT intact */
	signal(SIGXFSZ, SIG_IGN);
	outtree_init(&tree);
	outtree_init(&listed);
	inputs_init(&inputs);
	code = cli_options_parse(&build_cli, argc, argv, &o, &nargs);
	if (code != CLI_PROCEED)
		goto clean;
	if (o.hosts.nomem) {
		cli_error("out of memory");
		code = PF_EXIT_IO;
		goto clean;
	}
	out = o.output;
	bundle = o.bundle;
	quiet = o.quiet;
	if (!*out) {
		code = cli_usage_error("build", "empty output directory");
		goto clean;
	}
	if (bundle && bundle_format(bundle) == PF_BUNDLE_UNKNOWN) {
		code = cli_usage_error("build", "bundle '%s' must end in %s",
				       bundle, PF_BUNDLE_EXTENSIONS);
		goto clean;
	}
	code = cli_load(argv[1], &p, &plan);
	if (!code)
		code = cli_select_hosts("build", plan, o.hosts.v, o.hosts.n,
					&only);
	if (code)
		goto clean;
	/* Downloads first: a bad source fails the build before any work. */
	fetch_opts_init(&fo);
	fo.cache_dir = o.cache;
	fo.progress = !quiet && isatty(STDERR_FILENO);
	rc = inputs_collect(plan, &inputs);
	if (!rc && only)
		inputs_keep_selected(&inputs, only);
	if (!rc)
		rc = inputs_resolve(&inputs, &fo, &bad_input, &why);
	if (rc) {
		code = report_sources(rc, bad_input, why);
		goto clean;
	}
	wo.progress = fo.progress ? progress_start_large : NULL;
	wo.keep_prev = only ? build_keeps : NULL;
	wo.ctx = only;
	rc = outwriter_open(out, &wo, &sink.w, &failed);
	if (rc) {
		code = report_write(rc, out, &st, failed);
		goto clean;
	}
	rc = package_stream(plan, only, build_put, &sink, &failed);
	if (rc && sink.put_failed) {
		code = report_write(rc, out, outwriter_stats(sink.w), failed);
		goto clean;
	}
	if (rc) {
		if (failed)
			cli_error("cannot read '%s': %s", failed, strerror(-rc));
		else
			cli_error("cannot render artifacts: %s", strerror(-rc));
		code = PF_EXIT_IO;
		goto clean;
	}
	/* the sources and what is made from them: one last chunk */
	rc = inputs_add(&inputs, &tree);
	if (!rc)
		rc = package_vm_containerdisks(plan, only, &inputs, fo.progress,
					       &tree, &cdisk_opts);
	if (rc) {
		code = report_sources(rc, bad_input, why);
		goto clean;
	}
	outtree_sort(&tree);
	rc = outwriter_put(sink.w, &tree, &failed);
	if (!rc)
		rc = outwriter_commit(sink.w, &st, &failed);
	if (rc) {
		code = report_write(rc, out, outwriter_stats(sink.w), failed);
		goto clean;
	}
	if (!quiet) {
		fputs("pxeforge: ", stderr);
		if (only)
			fprintf(stderr, "%zu of ", package_filter_hosts(only));
		cli_print_counts(stderr, plan);
		fprintf(stderr, ", %zu files in %s/ (%zu rewritten", st.files,
			out, st.rewritten);
		if (st.removed)
			fprintf(stderr, ", %zu removed", st.removed);
		fputs(")\n", stderr);
	}
	if (!bundle)
		goto clean;
	rc = outwriter_list(sink.w, &listed);
	if (!rc)
		rc = bundle_write(&listed, out, bundle, plan->mtime, fo.progress,
				  &br, &failed);
	if (rc) {
		cli_error("cannot write bundle '%s': %s",
			  failed ? failed : bundle, strerror(-rc));
		code = PF_EXIT_IO;
		goto clean;
	}
	if (!quiet)
		fprintf(stderr, "pxeforge: %s: %zu entries, %" PRIu64
			" bytes, sha256 %s%s\n", bundle, br.entries,
			br.sum.size, br.sum.sha256,
			br.replaced ? "" : " (unchanged)");
clean:
	outwriter_free(sink.w);
	free(cdisk_opts);
	free(why);
	inputs_release(&inputs);
	fetch_global_cleanup();
	free(failed);
	outtree_release(&listed);
	outtree_release(&tree);
	package_filter_free(only);
	cli_unload(p, plan);
	free(o.hosts.v);
	return code;
}
