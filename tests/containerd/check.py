"""Checks of the containerd fragments under cloud-init/containerd/, one per
invocation, for tests/containerd/run.sh:

    python3 tests/containerd/check.py CHECK ARGS...

Exit 0 when the check holds; otherwise 1 with the reasons on stdout. TOML
is parsed with Python's tomllib (Debian python3 >= 3.11), which refuses a
table declared twice; header_duplicates() states the same rule explicitly.
"""
import json
import re
import sys
import tomllib

CDI_DIRS = ["/etc/cdi", "/var/run/cdi"]
IMPORT = "/etc/containerd/cdi.toml"
CRI_V2 = "io.containerd.grpc.v1.cri"
CRI_V3 = "io.containerd.cri.v1.runtime"
BASE_LINE = re.compile(r'^[ \t]*\{\{-?\s*template\s+"base"\s+\.\s*-?\}\}[ \t]*$')
BASE_ACTION = re.compile(r'\{\{-?\s*template\s+"base"')
BASE_ACTION_FULL = re.compile(r'\{\{-?\s*template\s+"base"\s+\.\s*-?\}\}')


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse(text, what):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise Failed(f"{what}: not valid TOML: {e}")


# --- table headers -----------------------------------------------------------

HEADER = re.compile(r"^[ \t]*\[(?!\[)(.*)\][ \t]*(#.*)?$")
BARE = re.compile(r"[A-Za-z0-9_-]+")


def split_key(s):
    """A TOML dotted key as a tuple of its parts, quotes resolved."""
    parts, i, n = [], 0, len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            parts.append(json.loads(s[i:j + 1]))
            i = j + 1
        elif i < n and s[i] == "'":
            j = s.index("'", i + 1)
            parts.append(s[i + 1:j])
            i = j + 1
        else:
            m = BARE.match(s, i)
            if not m:
                raise Failed(f"cannot read table header [{s}]")
            parts.append(m.group())
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i == n:
            return tuple(parts)
        if s[i] != ".":
            raise Failed(f"cannot read table header [{s}]")
        i += 1


def header_duplicates(text):
    """Every [table] declared more than once (quoting normalised), with
    its line numbers. [[array tables]] may repeat and are not counted.
    The files checked here have no multi-line strings."""
    seen = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = HEADER.match(line)
        if m:
            seen.setdefault(split_key(m.group(1)), []).append(no)
    return {k: v for k, v in seen.items() if len(v) > 1}


def show_key(parts):
    return ".".join(json.dumps(p) if not BARE.fullmatch(p) else p for p in parts)


# --- the v3 template ---------------------------------------------------------

def render_v3(tmpl_path, base_path, imports_below=False):
    """config-v3.toml.tmpl with its base line replaced by the stand-in base
    (optionally with its imports line moved below the base). Returns the
    text and the line number at which the base starts."""
    lines = read(tmpl_path).splitlines(keepends=True)
    at = [i for i, l in enumerate(lines) if BASE_LINE.match(l)]
    expect(len(at) == 1, f'{tmpl_path}: {len(at)} lines are {{{{ template "base" . }}}}, want 1')
    others = [l for i, l in enumerate(lines) if i != at[0] and "{{" in l]
    expect(not others, f"{tmpl_path}: template actions besides the base line: {others}")
    # The action is replaced by the base's text, as text/template does;
    # the rest of its line (the newline) stays.
    base = BASE_ACTION_FULL.sub(lambda m: read(base_path), lines[at[0]])
    before, after = lines[:at[0]], lines[at[0] + 1:]
    if imports_below:
        moved = [l for l in before if l.startswith("imports")]
        before = [l for l in before if not l.startswith("imports")]
        if not base.endswith("\n"):
            base += "\n"
        after = moved + after
    return "".join(before) + base + "".join(after), len(before) + 1


def check_v3_render(tmpl, base, out):
    text, _ = render_v3(tmpl, base)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


def check_toml(path, version):
    text = read(path)
    dups = header_duplicates(text)
    expect(not dups, f"{path}: tables declared twice: " +
           "; ".join(f"[{show_key(k)}] at lines {v}" for k, v in dups.items()))
    doc = parse(text, path)
    if version == "-":
        expect("version" not in doc, f"{path}: version = {doc.get('version')}, want none")
    else:
        expect(doc.get("version") == int(version),
               f"{path}: version = {doc.get('version')}, want {version}")


def check_v3_imports(tmpl, base):
    text, base_from = render_v3(tmpl, base)
    doc = parse(text, "rendered v3 template")
    expect(doc.get("imports") == [IMPORT],
           f"top-level imports = {doc.get('imports')!r}, want [{IMPORT!r}]")
    lines = text.splitlines()
    where = [i + 1 for i, l in enumerate(lines) if l.startswith("imports")]
    expect(len(where) == 1, f"imports lines at {where}, want one")
    expect(where[0] < base_from,
           f"imports at line {where[0]} does not come before the base (line {base_from})")
    first_table = next(i + 1 for i, l in enumerate(lines) if HEADER.match(l))
    expect(where[0] < first_table,
           f"imports at line {where[0]} is below the first table (line {first_table})")


def check_v3_imports_below(tmpl, base):
    """The same file with imports below the base still parses, but imports
    then belongs to the base's last table: containerd would never see it."""
    text, _ = render_v3(tmpl, base, imports_below=True)
    doc = parse(text, "v3 template with imports below the base")
    expect("imports" not in doc, "imports below the base is still a top-level key")
    registry = doc["plugins"]["io.containerd.cri.v1.images"]["registry"]
    expect(registry.get("imports") == [IMPORT],
           f"imports did not land in the base's last table: {registry}")


def check_cdi(path, plugin, version):
    doc = parse(read(path), path)
    want = {"enable_cdi": True, "cdi_spec_dirs": CDI_DIRS}
    plugins = doc.get("plugins", {})
    expect(list(plugins) == [plugin], f"{path}: plugin tables {list(plugins)}, want [{plugin!r}]")
    expect(plugins[plugin] == want, f"{path}: plugins[{plugin!r}] = {plugins[plugin]}, want {want}")
    rest = {k: v for k, v in doc.items() if k not in ("plugins", "version")}
    expect(not rest, f"{path}: other keys: {rest}")
    expect(doc.get("version") == version, f"{path}: version {doc.get('version')}, want {version}")


def leaves(doc, path=()):
    for k, v in doc.items():
        if isinstance(v, dict):
            yield from leaves(v, path + (k,))
        else:
            yield path + (k,), v


def get(doc, path):
    for k in path:
        if not isinstance(doc, dict) or k not in doc:
            return KeyError
        doc = doc[k]
    return doc


def merge_keywise(to, frm):
    """containerd 2.x: imported plugin tables merged into the main config
    key by key (tables recursively, other values replaced)."""
    out = dict(to)
    for k, v in frm.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_keywise(out[k], v)
        else:
            out[k] = v
    return out


def merge_wholesale(to, frm):
    """containerd 1.7 (mergeConfig): each imported plugin section replaces
    the main config's section of that name entirely."""
    out = dict(to)
    out["plugins"] = dict(to.get("plugins", {}))
    for k, v in frm.get("plugins", {}).items():
        out["plugins"][k] = v
    return out


def check_v3_merge(rendered, base, cdi):
    main = parse(read(rendered), rendered)
    main.pop("imports", None)
    imp = parse(read(cdi), cdi)
    merged = merge_keywise(main, {"plugins": imp["plugins"]})
    lost = [(p, v) for p, v in leaves(parse(read(base), base)) if get(merged, p) != v]
    expect(not lost, "base settings lost in the merge: " +
           ", ".join(f"{show_key(p)} = {v!r}" for p, v in lost))
    cri = merged["plugins"][CRI_V3]
    expect(cri.get("enable_cdi") is True and cri.get("cdi_spec_dirs") == CDI_DIRS,
           f"CDI is not on after the merge: {cri}")


# --- the v2 template ---------------------------------------------------------

def check_v2_standalone(tmpl):
    text = read(tmpl)
    expect(not BASE_ACTION.search(text), f'{tmpl} calls template "base"')
    expect(not re.search(r"^\s*imports\s*=", text, re.M), f"{tmpl} has an imports line")


def k3s_v2_expected(d):
    """What k3s's v2 base renders for the template data d (the fields of
    k3s's ContainerdConfig in tests/containerd/render/main.go), as TOML
    data, with the two CDI keys pxeforge adds to the CRI table."""
    node = d.get("NodeConfig", {})
    agent = node.get("AgentConfig", {})
    ctd = node.get("Containerd", {})
    reg = d.get("PrivateRegistryConfig") or {}
    systemd = d.get("SystemdCgroup", False)
    snap = agent.get("Snapshotter", "")
    plugins = {"io.containerd.internal.v1.opt": {"path": ctd.get("Opt", "")}}
    cri = {
        "stream_server_address": "127.0.0.1",
        "stream_server_port": "10010",
        "enable_selinux": node.get("SELinux", False),
        "enable_unprivileged_ports": d.get("EnableUnprivileged", False),
        "enable_unprivileged_icmp": d.get("EnableUnprivileged", False),
        "enable_cdi": True,
        "cdi_spec_dirs": CDI_DIRS,
    }
    if d.get("DisableCgroup"):
        cri["disable_cgroup"] = True
    if d.get("IsRunningInUserNS"):
        cri["disable_apparmor"] = True
        cri["restrict_oom_score_adj"] = True
    if agent.get("PauseImage"):
        cri["sandbox_image"] = agent["PauseImage"]
    containerd = {}
    if snap:
        containerd["snapshotter"] = snap
        containerd["disable_snapshot_annotations"] = snap != "stargz"
        if node.get("DefaultRuntime"):
            containerd["default_runtime_name"] = node["DefaultRuntime"]

    def auth_of(rc):
        a = rc.get("Auth") or {}
        keys = {"Username": "username", "Password": "password",
                "Auth": "auth", "IdentityToken": "identitytoken"}
        return {keys[k]: v for k, v in a.items() if v}

    if snap == "stargz":
        stargz = {}
        if agent.get("ImageServiceSocket"):
            stargz["cri_keychain_image_service_path"] = agent["ImageServiceSocket"]
            stargz["cri_keychain"] = {"enable_keychain": True}
        sreg = {}
        if reg.get("Mirrors"):
            sreg["mirrors"] = {}
            for host, m in reg["Mirrors"].items():
                sreg["mirrors"][host] = {"endpoint": m.get("Endpoints") or []}
                if m.get("Rewrites"):
                    sreg["mirrors"][host]["rewrite"] = m["Rewrites"]
        for host, rc in (reg.get("Configs") or {}).items():
            c = {}
            if rc.get("Auth") is not None:
                c["auth"] = auth_of(rc)
            if rc.get("TLS") is not None:
                t = rc["TLS"]
                keys = {"CAFile": "ca_file", "CertFile": "cert_file", "KeyFile": "key_file"}
                c["tls"] = {keys[k]: v for k, v in t.items() if k in keys and v}
                if t.get("InsecureSkipVerify"):
                    c["tls"]["insecure_skip_verify"] = True
            if c:
                sreg.setdefault("configs", {})[host] = c
        if sreg:
            stargz["registry"] = sreg
        if stargz:
            plugins["io.containerd.snapshotter.v1.stargz"] = stargz
    if not node.get("NoFlannel"):
        cri["cni"] = {"bin_dir": agent.get("CNIBinDir", ""), "conf_dir": agent.get("CNIConfDir", "")}
    tasks = {}
    if ctd.get("BlockIOConfig"):
        tasks["blockio_config_file"] = ctd["BlockIOConfig"]
    if ctd.get("RDTConfig"):
        tasks["rdt_config_file"] = ctd["RDTConfig"]
    if tasks:
        plugins["io.containerd.service.v1.tasks-service"] = tasks
    runtimes = {"runc": {"runtime_type": "io.containerd.runc.v2",
                         "options": {"SystemdCgroup": systemd}}}
    for name, rt in (d.get("ExtraRuntimes") or {}).items():
        runtimes[name] = {"runtime_type": rt["RuntimeType"],
                          "options": {"BinaryName": rt["BinaryName"], "SystemdCgroup": systemd}}
    containerd["runtimes"] = runtimes
    cri["containerd"] = containerd
    cri["registry"] = {"config_path": ctd.get("Registry", "")}
    for host, rc in (reg.get("Configs") or {}).items():
        if rc.get("Auth") is not None:
            cri["registry"].setdefault("configs", {})[host] = {"auth": auth_of(rc)}
    plugins[CRI_V2] = cri
    return {"version": 2, "plugins": plugins}


def check_v2_cdi_on(rendered):
    cri = parse(read(rendered), rendered)["plugins"][CRI_V2]
    expect(cri.get("enable_cdi") is True, f"enable_cdi = {cri.get('enable_cdi')!r}")
    expect(cri.get("cdi_spec_dirs") == CDI_DIRS, f"cdi_spec_dirs = {cri.get('cdi_spec_dirs')!r}")


def check_v2_base(rendered, data_path):
    """Every setting k3s's base renders from the data is there, nothing
    else is (besides CDI); the settings that matter most named one by one."""
    data = json.loads(read(data_path))
    doc = parse(read(rendered), rendered)
    agent = data["NodeConfig"]["AgentConfig"]
    problems = []

    def want(path, value):
        got = get(doc, path)
        if got != value:
            problems.append(f"{show_key(path)} = {'missing' if got is KeyError else repr(got)}, want {value!r}")

    P = ("plugins", CRI_V2)
    want(P + ("sandbox_image",), agent["PauseImage"])
    want(P + ("cni", "bin_dir"), agent["CNIBinDir"])
    want(P + ("cni", "conf_dir"), agent["CNIConfDir"])
    want(P + ("containerd", "runtimes", "runc", "options", "SystemdCgroup"), data.get("SystemdCgroup", False))
    want(P + ("registry", "config_path"), data["NodeConfig"]["Containerd"]["Registry"])
    for name, rt in (data.get("ExtraRuntimes") or {}).items():
        want(P + ("containerd", "runtimes", name, "options", "BinaryName"), rt["BinaryName"])
    for host, m in ((data.get("PrivateRegistryConfig") or {}).get("Mirrors") or {}).items():
        want(("plugins", "io.containerd.snapshotter.v1.stargz", "registry", "mirrors", host, "endpoint"),
             m["Endpoints"])
    expected = k3s_v2_expected(data)
    for path, value in leaves(expected):
        if get(doc, path) != value:
            want(path, value)
    for path, value in leaves(doc):
        if get(expected, path) is KeyError:
            problems.append(f"{show_key(path)} = {value!r} is not in k3s's base")
    expect("imports" not in doc, f"rendered v2 config has imports = {doc.get('imports')!r}")
    expect(not problems, "; ".join(dict.fromkeys(problems)))


def check_v2_import_loses(rendered, cdi):
    """Why config.toml.tmpl does not import a CRI table: containerd 1.7
    replaces the whole CRI section with the imported one."""
    doc = parse(read(rendered), rendered)
    base = dict(doc["plugins"][CRI_V2])
    del base["enable_cdi"], base["cdi_spec_dirs"]
    k3s = {**doc, "plugins": {**doc["plugins"], CRI_V2: base}}
    merged = merge_wholesale(k3s, parse(read(cdi), cdi))
    cri = merged["plugins"][CRI_V2]
    expect(cri.get("enable_cdi") is True, "the import did not even turn CDI on")
    for key in ("sandbox_image", "cni", "containerd", "registry"):
        expect(key in base, f"the rendered base has no {key} to lose")
        expect(key not in cri, f"{key} survived a wholesale replacement?")
    keywise = merge_keywise(k3s, {"plugins": parse(read(cdi), cdi)["plugins"]})
    expect(keywise["plugins"][CRI_V2].get("sandbox_image") == base["sandbox_image"],
           "even a key-wise merge loses sandbox_image")


def check_v2_duplicate_refused(rendered):
    """A CRI table appended after k3s's base (the obvious extension) is
    refused by tomllib and found by the header scan."""
    text = read(rendered) + f'\n[plugins."{CRI_V2}"]\n  enable_cdi = true\n'
    dups = header_duplicates(text)
    expect(("plugins", CRI_V2) in dups, f"header scan missed the second CRI table: {dups}")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    raise Failed("tomllib accepted a CRI table declared twice")


CHECKS = {
    "v3-render": check_v3_render,
    "toml": check_toml,
    "v3-imports": check_v3_imports,
    "v3-imports-below": check_v3_imports_below,
    "cdi-v3": lambda path: check_cdi(path, CRI_V3, None),
    "cdi-v2": lambda path: check_cdi(path, CRI_V2, 2),
    "v3-merge": check_v3_merge,
    "v2-standalone": check_v2_standalone,
    "v2-cdi-on": check_v2_cdi_on,
    "v2-base": check_v2_base,
    "v2-import-loses": check_v2_import_loses,
    "v2-duplicate-refused": check_v2_duplicate_refused,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(f"usage: check.py {{{'|'.join(CHECKS)}}} ARGS...")
        return 2
    try:
        CHECKS[argv[1]](*argv[2:])
    except Failed as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
