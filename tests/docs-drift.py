#!/usr/bin/python3
"""docs-drift.py -- what the programs accept, checked against the man pages.

Nothing here is a hand-written list of options or keys: they are read
from the programs and the sources each time, so that an option or key
added without its documentation fails `make check`.

  meshctl(1)     every verb of `meshctl --help`, with every option and
                 sub-verb of `meshctl VERB --help` (its usage line and its
                 option lines), in that verb's entry under VERBS, as an
                 item or in the entry's own line; the global options under
                 GLOBAL OPTIONS.
  meshd.conf(5)  every key the loader of meshd.conf knows (core/config*.c,
                 alert-conf.c, policy-conf.c; the key arrays such as
                 config_keys[] and each key a parser compares a setting's
                 name with) in the KEY TABLE, in the part for its section
                 (lineage, policies, http, executors, pools) when it has
                 one, and described under a heading of its own below it.
  meshd-job(5)   the same for core/job*.c and the job file.
  meshd(8), meshd-worker(8): every option of their --help.
  any page       every environment variable core/*.c reads (getenv()).

usage: docs-drift.py --srcdir DIR --mandir DIR --meshctl PROG
                     [--meshd PROG] [--meshd-worker PROG]
Prints one line per omission, "FILE: what is missing (where it comes
from)", and exits 1 if there is any, 0 otherwise; 2 if the inputs
cannot be read.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

problems = []


def missing(man, what):
    problems.append("%s: %s" % (man, what))


def die(msg):
    sys.stderr.write("docs-drift.py: %s\n" % msg)
    sys.exit(2)


def run_help(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    except OSError as e:
        die("cannot run %s: %s" % (" ".join(argv), e))
    if p.returncode != 0:
        die("%s exited %d" % (" ".join(argv), p.returncode))
    return p.stdout.decode("utf-8", "replace")


def roff_text(s):
    """A roff line as it reads: no font changes, \\- as -, quotes gone."""
    s = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", s)
    s = s.replace("\\-", "-").replace("\\&", "").replace("\\(dq", '"')
    s = re.sub(r"\\\((..)", " ", s)
    s = s.replace("\\ ", " ").replace("\\e", "\\")
    s = re.sub(r"^\.(BR|RB|BI|IB|IR|RI|B|I|SM|SB)\s+", "", s)
    return s.replace('"', " ")


def read_man(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().split("\n")
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def sections(lines):
    """{'.SH title': [lines]} in order, with the line numbers."""
    out, cur = [], None
    for i, l in enumerate(lines):
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', l)
        if m:
            cur = (m.group(1).strip(), [])
            out.append(cur)
        elif cur is not None:
            cur[1].append(l)
    return out


def tags(lines):
    """The tag line of each .TP item (the line after .TP), as text."""
    return [roff_text(lines[i + 1]) for i in range(len(lines) - 1)
            if lines[i].startswith((".TP", ".TQ"))]


def has_word(text, word):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), text) \
        is not None


# ------------------------------------------------------------ options

OPT_RE = re.compile(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z0-9])"
                    r"(?![\w-])")


def help_options(text):
    """The options a help text defines: the words starting with - on its
    option lines (indented 1 to 8 columns, the part before the
    description's gap of two spaces) and in its usage lines."""
    opts = []
    lines = text.split("\n")
    # The usage: its first paragraph (one form a line, or one long line).
    while lines and lines[0].strip() != "":
        opts += OPT_RE.findall(lines.pop(0))
    for l in lines:
        m = re.match(r"^ {1,8}(-.*)$", l)
        if m:
            spec = re.split(r"\s{2,}", m.group(1))[0]
            opts += OPT_RE.findall(spec)
    seen = []
    for o in opts:
        if o not in seen:
            seen.append(o)
    return seen


def usage_subverbs(usage):
    """The literal words of a usage (`cancel` in `JOB ... | cancel ID`,
    `info` in `info FILE.so`): lower-case words outside brackets that are
    no option's argument."""
    words, depth, prev = [], 0, ""
    for tok in re.split(r"\s+|(?=\|)|(?<=\|)", usage):
        if tok == "":
            continue
        d0 = depth
        depth += tok.count("[") - tok.count("]")
        w = tok.strip("[]")
        if d0 == 0 and "[" not in tok and re.match(r"^[a-z][a-z-]*$", w) \
                and not prev.startswith("-"):
            words.append(w)
        prev = w
    return words


def check_meshctl(man, lines, meshctl):
    top = run_help([meshctl, "--help"])
    verbs, glob_opts, part = [], [], None
    for l in top.split("\n"):
        if l.startswith("Verbs:"):
            part = "verbs"
        elif l.startswith("Global options:"):
            part = "global"
        elif l.strip() == "" or not l.startswith(" "):
            part = None if l.strip() == "" else part
        if part == "verbs":
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s", l)
            if m:
                verbs.append(m.group(1))
        elif part == "global" and re.match(r"^ {1,8}-", l):
            spec = re.split(r"\s{2,}", l.strip())[0]
            glob_opts += OPT_RE.findall(spec)
    if not verbs:
        die("no verbs in `%s --help`" % meshctl)

    secs = sections(lines)
    gsec = [s for t, s in secs if t == "GLOBAL OPTIONS"]
    gtags = " ".join(tags(gsec[0])) if gsec else ""
    for o in glob_opts:
        if not has_word(gtags, o):
            missing(man, "GLOBAL OPTIONS has no item for %s "
                    "(`meshctl --help` lists it)" % o)

    # The entries under VERBS: a .TP outside any .RS whose tag starts with
    # a verb; the verbs of an entry are its bold words that `meshctl
    # --help` lists (`.BR pause " JOB, " unpause " JOB"` is both).
    vsec = [s for t, s in secs if t == "VERBS"]
    if not vsec:
        missing(man, "no VERBS section")
        return
    vl = vsec[0]
    entries = {}     # verb -> [(tag, [item tags], [text lines])]
    i, cur, depth = 0, None, 0
    while i < len(vl):
        depth += vl[i].startswith(".RS") - vl[i].startswith(".RE")
        if vl[i].startswith(".TP") and i + 1 < len(vl):
            tag = vl[i + 1]
            m = re.match(r"^\.(B|BR)\s+(.*)$", tag)
            owners = []
            if m and depth == 0:
                args = re.findall(r'"[^"]*"|\S+', m.group(2))
                bold = args if m.group(1) == "B" else args[0::2]
                if bold:
                    first = roff_text(bold[0]).split()
                    if first and first[0] in verbs:
                        owners = [roff_text(b).split()[0] for b in bold
                                  if roff_text(b).split() and
                                  roff_text(b).split()[0] in verbs]
            if owners:
                cur = (roff_text(tag), [], [])
                for v in owners:
                    entries.setdefault(v, []).append(cur)
            elif cur is not None:
                cur[1].append(roff_text(tag))
            i += 2
            continue
        if cur is not None:
            cur[2].append(roff_text(vl[i]))
        i += 1

    for v in verbs:
        vhelp = run_help([meshctl, v, "--help"])
        # Each form of the usage (its first paragraph) after "meshctl V".
        forms = re.findall(r"\bmeshctl\s+%s(?![\w-])(.*)" % re.escape(v),
                           vhelp.split("\n\n")[0])
        if not forms:
            missing(man, "`meshctl %s --help` has no usage line "
                    "'usage: meshctl %s ...'" % (v, v))
        usage = " | ".join(forms)
        if v not in entries:
            missing(man, "VERBS has no entry for the verb '%s' "
                    "(`meshctl --help` lists it)" % v)
            continue
        # A long option is documented by an item or the entry's synopsis;
        # its short form may be given in the text ("-n/--limit").
        text = " ".join(t + " " + " ".join(items)
                        for t, items, _ in entries[v])
        prose = text + " " + " ".join(" ".join(p)
                                      for _, _, p in entries[v])
        for w in usage_subverbs(usage):
            if not has_word(text, w):
                missing(man, "the entry of '%s' does not name its "
                        "sub-verb '%s' (usage: meshctl %s%s)" %
                        (v, w, v, usage))
        for o in help_options(vhelp):
            if o in ("-h", "--help"):
                continue
            if o in glob_opts and not re.search(
                    r"^ {1,8}(-\w, )?%s\b" % re.escape(o), vhelp, re.M):
                continue    # a mention of a global option
            if not has_word(prose if re.match(r"^-\w$", o) else text, o):
                missing(man, "the entry of '%s' under VERBS does not "
                        "document %s (`meshctl %s --help` lists it)" %
                        (v, o, v))


def check_daemon_opts(man, lines, prog, name):
    text = " ".join(roff_text(l) for l in lines)
    for o in help_options(run_help([prog, "--help"])):
        if o in ("-h", "--help"):
            continue
        if not has_word(text, o):
            missing(man, "does not document %s (`%s --help` lists it)" %
                    (o, name))


# ------------------------------------------------------------ keys

def c_defines(srcdir):
    """#define NAME "a", "b", OTHER: the string-list macros of core/."""
    defs = {}
    for path in glob.glob(os.path.join(srcdir, "core", "*.h")):
        with open(path, encoding="utf-8") as f:
            src = f.read().replace("\\\n", " ")
        for m in re.finditer(r"^#define\s+(\w+)\s+(.*)$", src, re.M):
            defs[m.group(1)] = m.group(2)
    return defs


def expand(body, defs, depth=0):
    out = []
    for tok in re.findall(r'"(?:[^"\\]|\\.)*"|\b[A-Z_][A-Z0-9_]*\b', body):
        if tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok in defs and depth < 8:
            out += expand(defs[tok], defs, depth + 1)
    return out


def functions(src):
    """Top-level function bodies (house style: `{` and `}` in column 0)."""
    return re.findall(r"^\{\n(.*?)^\}", src, re.M | re.S)


def c_keys(path, defs):
    """[(key, origin)] of one parser source: the entries of its *_keys[]
    arrays (origin 'ARRAY[]'), and the literals it compares the name of
    a setting with (origin 'strcmp'): strcmp(k, "x") where k was set from
    config_setting_name(), strcmp(config_setting_name(e), "x"),
    config_setting_get_member(g, "x"), config_lookup(c, "x")."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    keys = []
    for m in re.finditer(r"\b(\w+_keys)\s*\[[^]]*\]\s*=\s*\{(.*?)\};", src,
                         re.S):
        keys += [(k, m.group(1) + "[]") for k in expand(m.group(2), defs)]
    for body in functions(src):
        names = set(re.findall(r"\b(\w+)\s*=\s*config_setting_name\s*\(",
                               body))
        for m in re.finditer(r"strcmp\s*\(\s*(\w+|config_setting_name\s*"
                             r"\([^()]*\))\s*,\s*\"([^\"]+)\"", body):
            if m.group(1) in names or \
                    m.group(1).startswith("config_setting_name"):
                keys.append((m.group(2), "strcmp"))
        for m in re.finditer(r"config_(?:setting_get_member|lookup|"
                             r"setting_lookup_\w+)\s*\([^,]+,\s*"
                             r"\"([^\"]+)\"", body):
            keys.append((m.group(1), "strcmp"))
    return keys


def key_table(lines):
    """{part: set(keys)} of the KEY TABLE: part '' is the top level (or
    the first part), then each \\fIin ...\\fR heading."""
    parts, part, on = {}, "", False
    for l in lines:
        if l.startswith(".TS"):
            on = True
            continue
        if l.startswith(".TE"):
            break
        if not on or "\t" not in l and not l.startswith("\\fI"):
            continue
        m = re.match(r"^\\fI(.*?)\\fR\s*$", l)
        if m:
            part = m.group(1)
            continue
        first = l.split("\t")[0]
        for k in re.split(r",\s*", roff_text(first).strip()):
            parts.setdefault(part, set()).add(k.strip())
    return parts


def check_keys(man, lines, srcdir, files, sections_of, defs):
    secs = sections(lines)
    tsec = [s for t, s in secs if t == "KEY TABLE"]
    if not tsec:
        missing(man, "no KEY TABLE section")
        return
    table = key_table(tsec[0])
    alltable = set().union(*table.values()) if table else set()
    # Below the table, a key of the top level is described by an item of
    # its own (a .TP/.TQ tag) or heads a section (EXECUTORS); a key of a
    # group may be set in bold in the text of its group instead.
    body = [l for t, s in secs if t != "KEY TABLE" for l in s]
    heads = " ".join([t.lower() for t, _ in secs] +
                     [roff_text(l).lower() for l in body
                      if l.startswith(".SS")])
    items = " ".join(tags(body)) + " " + heads
    bold = [roff_text(l) for l in body
            if re.match(r"^\.(B|BR|RB|BI|IB)\s", l)]
    for l in body:
        bold += [roff_text(x) for x in re.findall(r"\\fB(.*?)\\f[RIP]",
                                                  l + "\\fR")]
    bold = items + " " + " ".join(bold)
    prose = " ".join(roff_text(l) for l in body)
    seen = set()
    for path in files:
        rel = os.path.relpath(path, srcdir)
        for key, origin in c_keys(path, defs):
            where = "%s: %s" % (rel, origin)
            if (key, origin, rel) in seen:
                continue
            seen.add((key, origin, rel))
            if origin == "strcmp":
                # Sub-keys such as a webhook's url: named in the text.
                if key not in alltable and not has_word(prose, key):
                    missing(man, "does not mention the key '%s' (%s)" %
                            (key, where))
                continue
            part = sections_of.get(origin[:-2])
            if part is not None:
                rows = [p for p in table if p == part or
                        (part and part in p)]
                if not rows:
                    missing(man, "the KEY TABLE has no part '%s' for "
                            "the keys of %s" % (part or "top level", where))
                elif key not in set().union(*(table[p] for p in rows)):
                    missing(man, "the KEY TABLE lacks the key '%s' in "
                            "its part '%s' (%s)" %
                            (key, part or "top level", where))
            elif key not in alltable:
                missing(man, "the KEY TABLE lacks the key '%s' (%s)" %
                        (key, where))
            if part == "" or part == "job":
                if not has_word(items, key):
                    missing(man, "the key '%s' has no item (.TP) of its "
                            "own below the KEY TABLE (%s)" % (key, where))
            elif not has_word(bold, key):
                missing(man, "the key '%s' is in the KEY TABLE but not "
                        "described below it, in bold (%s)" % (key, where))


# Which part of a KEY TABLE holds the keys of which array; an array not
# named here is looked for in the whole table.
CONF_PARTS = {"config_keys": "", "lineage_keys": "in lineage",
              "policy_keys": "in policies", "http_keys": "in http",
              "exec_keys": "in each executor", "pool_keys": "in a pool"}
JOB_PARTS = {"job_keys": "job", "task_keys": "in a task",
             "input_keys": "in an input", "product_keys": "in a products"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--mandir", required=True)
    ap.add_argument("--meshctl", required=True)
    ap.add_argument("--meshd")
    ap.add_argument("--meshd-worker")
    a = ap.parse_args()

    # Messages name the page as it is in the source tree.
    def man(name):
        return "doc/" + name, read_man(os.path.join(a.mandir, name))

    path, lines = man("meshctl.1")
    check_meshctl(path, lines, a.meshctl)

    defs = c_defines(a.srcdir)
    core = os.path.join(a.srcdir, "core")
    conf_files = sorted(glob.glob(os.path.join(core, "config*.c")) +
                        [os.path.join(core, f) for f in
                         ("alert-conf.c", "policy-conf.c")
                         if os.path.exists(os.path.join(core, f))])
    job_files = sorted(glob.glob(os.path.join(core, "job*.c")))
    if not conf_files or not job_files:
        die("no core/config*.c or core/job*.c under %s" % a.srcdir)
    path, lines = man("meshd.conf.5")
    check_keys(path, lines, a.srcdir, conf_files, CONF_PARTS, defs)
    path, lines = man("meshd-job.5")
    check_keys(path, lines, a.srcdir, job_files, JOB_PARTS, defs)

    # The environment variables the code reads, in one page or another.
    pages = " ".join(" ".join(roff_text(l) for l in read_man(
        os.path.join(a.mandir, m))) for m in sorted(os.listdir(a.mandir))
        if re.match(r"^.*\.[1-8]$", m))
    for path in sorted(glob.glob(os.path.join(core, "*.c"))):
        with open(path, encoding="utf-8") as f:
            src = f.read()
        for v in sorted(set(re.findall(r"\b(?:secure_)?getenv\s*\(\s*"
                                       r"\"([A-Za-z_][A-Za-z0-9_]*)\"", src))):
            if not has_word(pages, v):
                missing("doc/*.[158]", "no man page names the environment "
                        "variable %s (%s reads it)" %
                        (v, os.path.relpath(path, a.srcdir)))

    if a.meshd:
        path, lines = man("meshd.8")
        check_daemon_opts(path, lines, a.meshd, "meshd")
    if a.meshd_worker:
        path, lines = man("meshd-worker.8")
        check_daemon_opts(path, lines, a.meshd_worker, "meshd-worker")

    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
