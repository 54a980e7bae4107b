#!/usr/bin/python3
"""The profile reference, docs/profile.md and man/pxeforge-profile.5, from
the prose in docs/profile.md.in and the key tables as `pxeforge schema`
prints them (its @KEYS@ line becomes one table per mapping).

  scripts/profile-doc.py SCHEMA TEMPLATE MARKDOWN MANPAGE

`make docs` runs it; tests/cli/schema.bats fails when the committed files
differ from what it writes. Standard library only; the output depends on
nothing but the two inputs."""
import json
import os
import re
import sys

VERSION_RE = re.compile(r'#define PXEFORGE_VERSION "([^"]+)"')

# The few non-ASCII characters the prose uses, as groff spells them.
GROFF_CHARS = {"\u2026": "\\&...", "\u2013": "\\(en", "\u2014": "\\(em"}


# --- the key tables ------------------------------------------------------

def deref(schema, node):
    if "$ref" in node:
        return schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def ref_name(node):
    return node["$ref"].rsplit("/", 1)[1] if "$ref" in node else None


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def choices(values):
    out = []
    for v in values:
        if scalar(v) not in out:
            out.append(scalar(v))
    return out


def kind(node, link):
    """A property's type in words; link(name) spells a mapping's name."""
    if "enum" in node:
        return " | ".join("`%s`" % v for v in choices(node["enum"]))
    if "anyOf" in node:
        parts = node["anyOf"]
        if any(p.get("type") == "null" for p in parts):
            return link(next(ref_name(p) for p in parts if "$ref" in p))
        if any(p.get("type") == "string" for p in parts):
            return "name or " + link(next(ref_name(p) for p in parts
                                          if "$ref" in p))
        return " or ".join(kind(p, link) for p in parts)
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        items = node["items"]
        if "$ref" in items:
            return "list of " + link(ref_name(items))
        if "anyOf" in items:
            return "list of names or " + link(next(
                ref_name(p) for p in items["anyOf"] if "$ref" in p))
        return "list of strings"
    if "integer" in types and "string" in types:
        return "integer" if node.get("pattern") == "^[0-9]+$" else "CPU list"
    if node.get("pattern", "").endswith("[KMGT]i$"):
        return "quantity"
    return "string"


def presence(mapping, key, node):
    if key in mapping.get("required", []):
        return "required"
    if "default" in node:
        d = node["default"]
        if isinstance(d, list):
            return "default `[%s]`" % ", ".join(scalar(v) for v in d)
        return "default `%s`" % scalar(d)
    return "optional"


def places(schema):
    """Where each mapping appears: {name: ["hosts[]", ...]}."""
    out = {}

    def visit(node, path, depth):
        if depth > 8:
            return
        for key, prop in node.get("properties", {}).items():
            here = (path + "." if path else "") + key
            for sub, suffix in refs(prop):
                out.setdefault(sub, []).append(here + suffix)
                visit(schema["definitions"][sub], here + suffix, depth + 1)

    def refs(prop):
        for p in prop.get("anyOf", [prop]):
            if "$ref" in p:
                yield ref_name(p), ""
            items = p.get("items")
            if items:
                for q in items.get("anyOf", [items]):
                    if "$ref" in q:
                        yield ref_name(q), "[]"

    visit(schema, "", 0)
    return out


def sentence(doc, where):
    """A mapping's line: its description and where it appears."""
    s = doc[0].upper() + doc[1:] + "."
    return s + " At " + where + "." if where else s


def mappings(schema):
    yield schema
    for d in schema["definitions"].values():
        yield d


# --- Markdown ------------------------------------------------------------

def md_escape(s):
    return s.replace("|", "\\|")


def md_keys(schema):
    at = places(schema)
    out = []
    for m in mappings(schema):
        name = m["title"]
        out.append("### `%s`" % name)
        out.append("")
        where = at.get(name)
        out.append(sentence(m["description"], where and
                            ", ".join("`%s`" % w for w in where)))
        out.append("")
        out.append("| Key | Type | Required / default | Description |")
        out.append("|---|---|---|---|")
        for key, node in m["properties"].items():
            out.append("| `%s` | %s | %s | %s |" % (
                key, md_escape(kind(node, lambda n: "[%s](#%s)" % (n, n))),
                presence(m, key, node), md_escape(node["description"])))
        if "not" in m:
            out.append("")
            out.append("Not both %s." % " and ".join(
                "`%s`" % k for k in m["not"]["required"]))
        out.append("")
    return "\n".join(out).rstrip("\n")


def markdown(schema, template):
    head = ("<!-- Generated by scripts/profile-doc.py (make docs) from "
            "docs/profile.md.in and the key tables in builder/profile/; "
            "edit those, not this file. -->\n\n")
    return head + template.replace("@KEYS@", md_keys(schema))


# --- man page ------------------------------------------------------------

def roff_escape(s):
    s = s.replace("\\", "\\e")
    for c, r in GROFF_CHARS.items():
        s = s.replace(c, r)
    bad = [c for c in s if ord(c) > 127]
    if bad:
        raise SystemExit("profile-doc: no groff spelling for %r" % bad[0])
    return s


def roff_text(s, upper=False):
    """Inline Markdown as roff: **bold** and `code` in bold (code inside
    bold stays plain bold); upper: the rest in capitals (.SH titles)."""
    out = []
    for i, part in enumerate(re.split(r"\*\*", s)):
        if i % 2:
            out.append("\\fB" + roff_escape(part.replace("`", "")) + "\\fR")
            continue
        for j, piece in enumerate(part.split("`")):
            if j % 2:
                out.append("\\fB" + roff_escape(piece) + "\\fR")
            else:
                out.append(roff_escape(piece.upper() if upper else piece))
    return "".join(out)


def roff_line(s):
    s = s.lstrip()
    return "\\&" + s if s[:1] in (".", "'") else s


def roff_code(s):
    s = roff_escape(s)
    return "\\&" + s if s[:1] in (".", "'") else s


def man_keys(schema):
    at = places(schema)
    out = []
    for m in mappings(schema):
        name = m["title"]
        out.append(".SS %s" % name)
        where = at.get(name)
        out.append(roff_line(roff_text(sentence(
            m["description"], where and ", ".join("`%s`" % w for w in where)))))
        for key, node in m["properties"].items():
            out.append(".TP")
            out.append(".B %s" % key)
            out.append(roff_line(roff_text("%s; %s." % (
                kind(node, lambda n: n), presence(m, key, node)))))
            out.append(".br")
            out.append(roff_line(roff_text(node["description"])))
        if "not" in m:
            out.append(".PP")
            out.append(roff_line(roff_text("Not both %s." % " and ".join(
                "`%s`" % k for k in m["not"]["required"]))))
    return out


def manpage(schema, template, version):
    out = [
        '.\\" Generated by scripts/profile-doc.py (make docs) from',
        '.\\" docs/profile.md.in and the key tables in builder/profile/.',
        '.TH PXEFORGE-PROFILE 5 "" "pxeforge %s" "File Formats"' % version,
    ]
    lines = template.split("\n")
    block = []      # the lines of a paragraph or list item

    def flush():
        # spans may cross lines: convert the block, then split it again
        out.extend(roff_line(l) for l in roff_text("\n".join(block)).split("\n"))
        block.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        starts = (line.startswith(("#", "```", "- ")) or not line.strip() or
                  line.strip() == "@KEYS@")
        if block and starts:
            flush()
        if line.startswith("# "):
            title = line[2:].split(":", 1)
            out += [".SH NAME", "pxeforge-profile \\- " +
                    roff_text(title[-1].strip()), ".SH DESCRIPTION"]
        elif line.startswith("## "):
            out.append(".SH " + roff_text(line[3:], upper=True))
        elif line.startswith("### "):
            out.append(".SS " + roff_text(line[4:]))
        elif line.startswith("```"):
            out += [".PP", ".RS 2", ".nf"]
            i += 1
            while not lines[i].startswith("```"):
                out.append(roff_code(lines[i]))
                i += 1
            out += [".fi", ".RE"]
        elif line.strip() == "@KEYS@":
            out += man_keys(schema)
        elif not line.strip():
            pass
        elif line.startswith("- "):
            out.append(".IP \\(bu 2")
            block.append(line[2:])
        else:
            if not block:
                out.append(".PP")
            block.append(line)
        i += 1
    if block:
        flush()
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    with open(argv[2]) as f:
        template = f.read()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, "builder", "cli", "cli.h")) as f:
        version = VERSION_RE.search(f.read()).group(1)
    with open(argv[3], "w") as f:
        f.write(markdown(schema, template))
    with open(argv[4], "w") as f:
        f.write(manpage(schema, template, version))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
