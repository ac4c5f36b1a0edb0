#!/usr/bin/env python3
"""chaos-gen.py - the task files and the checks of tests/50-chaos.bats.

  chaos-gen.py gen SEED COUNT PREFIX DIR SLEEP OUT
      writes OUT/tasks.yaml (COUNT tasks named PREFIX-1 ... PREFIX-COUNT,
      drawn from random.Random(SEED)) and OUT/expected.json (what each task
      must end as and write).  SLEEP is a path to sleep(1) whose name holds
      the test's marker; DIR is a scratch folder for retry state.
  chaos-gen.py report OUT REPORT EXIT
      checks the JSON report: every task once, with the expected status.
  chaos-gen.py output OUT STDOUT STDERR MODE
      checks the tagged output: every line each task wrote, no other, and in
      group mode in one block per attempt (with keep-order, in task order).
  chaos-gen.py stderr OUT STDERR
      checks alloter's own lines: one failure line per failed task, the
      summary's counts.
  chaos-gen.py joblog OUT JOBLOG
      checks the job log: one line per attempt.

Every check prints what is wrong and exits 1, or exits 0 silently.
"""
import json
import os
import random
import re
import sys
from collections import defaultdict

SIGNALS = ["SEGV", "ABRT", "KILL", "TERM", "USR1", "USR2", "HUP", "INT",
           "QUIT", "BUS", "FPE", "ILL", "ALRM", "PIPE"]

# kind: weight.  The cheap kinds dominate so that 5,000 tasks stay fast.
KINDS = {
    "ok": 30,          # a few lines on both streams, exit 0
    "exit": 14,        # a few lines, exit with a random code 1..255
    "crash": 10,       # a few lines, then kill itself with a random signal
    "sleep": 10,       # sleep up to 50 ms between two lines
    "burst": 3,        # thousands of lines on both streams (past 64 KiB)
    "longline": 1,     # one 150,000-byte line
    "silent": 4,       # no output at all, exit 0 or 1
    "bg": 5,           # a grandchild in the background that never ends
    "bgnoterm": 2,     # the same, ignoring SIGTERM
    "timeout": 3,      # sleeps past its own 100 ms deadline
    "noterm": 2,       # ignores SIGTERM and sleeps past its deadline
    "fastdeadline": 4, # has a generous deadline that it never reaches
    "direct": 6,       # a plain-words command run without the shell
    "retryfail": 2,    # fails every one of its 3 attempts
    "retryok": 2,      # fails once, then succeeds
}


def q(s):
    """Single-quotes s for sh."""
    return "'" + s.replace("'", "'\\''") + "'"


def lines(prefix, n):
    return ["%s:%d" % (prefix, k) for k in range(1, n + 1)]


def echo_lines(ls, fd):
    if not ls:
        return ""
    redir = " >&2" if fd == 2 else ""
    return "printf '%%s\\n' %s%s; " % (" ".join(q(x) for x in ls), redir)


def make_task(rng, name, scratch, sleep):
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    t = {"name": name, "kind": kind, "out": [], "err": [], "attempts": 1,
         "status": "succeeded", "exit_code": 0, "signal": None,
         "timeout": None, "retries": None}
    n_out, n_err = rng.randint(0, 6), rng.randint(0, 3)
    out, err = lines(name + ":o", n_out), lines(name + ":e", n_err)
    both = echo_lines(out, 1) + echo_lines(err, 2)
    if kind == "ok":
        cmd = both + "exit 0"
    elif kind == "exit":
        code = rng.randint(1, 255)
        cmd = both + "exit %d" % code
        t.update(status="failed", exit_code=code)
    elif kind == "crash":
        sig = rng.choice(SIGNALS)
        cmd = both + "kill -s %s $$; sleep 5" % sig
        t.update(status="crashed", exit_code=None, signal="SIG" + sig)
    elif kind == "sleep":
        ms = rng.randint(1, 50)
        out2 = lines(name + ":s", 2)
        cmd = (echo_lines(out2[:1], 1) + "sleep %.3f; " % (ms / 1000) +
               echo_lines(out2[1:], 1) + echo_lines(err, 2) + "exit 0")
        out = out2
    elif kind == "burst":
        n1, n2 = rng.randint(2000, 12000), rng.randint(500, 9000)
        cmd = ("seq -f %s 1 %d; seq -f %s 1 %d >&2; exit 0" %
               (q(name + ":b:%g"), n1, q(name + ":B:%g"), n2))
        out, err = lines(name + ":b", n1), lines(name + ":B", n2)
    elif kind == "longline":
        cmd = ("printf %%s %s; head -c 150000 /dev/zero | tr '\\0' x; "
               "echo; exit 0" % q(name + ":"))
        out, err = [name + ":" + "x" * 150000], []
    elif kind == "silent":
        code = rng.randint(0, 1)
        cmd = "exit %d" % code
        out, err = [], []
        if code:
            t.update(status="failed", exit_code=1)
    elif kind == "bg":
        cmd = "%s 300 & %sexit 0" % (q(sleep), both)
    elif kind == "bgnoterm":
        cmd = "trap '' TERM; %s 300 & %sexit 0" % (q(sleep), both)
    elif kind == "timeout":
        # The deadline may pass before a slow-starting shell has written
        # its lines: the marker says it had, or the output may be short.
        t["wrote"] = "%s/%s.wrote" % (scratch, name)
        cmd = "%s: >%s; exec %s 5" % (both, q(t["wrote"]), q(sleep))
        t.update(status="timed_out", exit_code=None, timeout="100ms")
    elif kind == "noterm":
        t["wrote"] = "%s/%s.wrote" % (scratch, name)
        cmd = "trap '' TERM; %s: >%s; %s 5; exit 0" % (both, q(t["wrote"]),
                                                       q(sleep))
        t.update(status="timed_out", exit_code=None, timeout="100ms")
    elif kind == "fastdeadline":
        cmd = both + "exit 0"
        t["timeout"] = "30s"
    elif kind == "direct":
        if rng.random() < 0.8:
            n = rng.randint(1, 20)
            cmd = "seq -f %s:d:%%g 1 %d" % (name, n)
            out, err = lines(name + ":d", n), []
        else:
            cmd = "false"
            out, err = [], []
            t.update(status="failed", exit_code=1)
    elif kind == "retryfail":
        cmd = both + "exit 5"
        out, err = out * 3, err * 3
        t.update(status="failed", exit_code=5, attempts=3, retries=2)
    elif kind == "retryok":
        state = "%s/%s" % (scratch, name)
        a1, a2 = lines(name + ":r1", 2), lines(name + ":r2", 2)
        cmd = ("if [ -e %s ]; then %sexit 0; fi; : > %s; %sexit 9" %
               (q(state), echo_lines(a2, 1), q(state), echo_lines(a1, 2)))
        out, err = a2, a1
        t.update(attempts=2, retries=3)
    t.update(command=cmd, out=out, err=err)
    return t


def gen(seed, count, prefix, scratch, sleep, outdir):
    rng = random.Random(seed)
    tasks = [make_task(rng, "%s-%d" % (prefix, i), scratch, sleep)
             for i in range(1, count + 1)]
    with open(outdir + "/tasks.yaml", "w") as f:
        f.write("tasks:\n")
        for t in tasks:
            f.write("  - name: %s\n    run: %s\n" %
                    (json.dumps(t["name"]), json.dumps(t["command"])))
            if t["timeout"]:
                f.write("    timeout: %s\n" % t["timeout"])
            if t["retries"] is not None:
                f.write("    retries: %d\n" % t["retries"])
    with open(outdir + "/expected.json", "w") as f:
        json.dump(tasks, f)


def load(outdir):
    with open(outdir + "/expected.json") as f:
        return json.load(f)


problems = []


def problem(msg):
    problems.append(msg)


def finish():
    for p in problems[:40]:
        print(p)
    if len(problems) > 40:
        print("... and %d more problems" % (len(problems) - 40))
    sys.exit(1 if problems else 0)


def check_report(outdir, report, exit_status):
    tasks = load(outdir)
    with open(report) as f:
        rep = json.load(f)
    seen = defaultdict(list)
    for r in rep["tasks"]:
        seen[r.get("name")].append(r)
    names = {t["name"] for t in tasks}
    for n in seen:
        if n not in names:
            problem("report names an unknown task %r" % n)
    for i, t in enumerate(tasks, 1):
        rs = seen.get(t["name"], [])
        if len(rs) != 1:
            problem("task %s (%s) is in the report %d times" %
                    (t["name"], t["kind"], len(rs)))
            continue
        r = rs[0]
        want = {"index": i, "command": t["command"], "status": t["status"],
                "attempts": t["attempts"]}
        if t["status"] in ("succeeded", "failed"):
            want.update(exit_code=t["exit_code"], signal=None)
        if t["status"] == "crashed":
            want.update(exit_code=None, signal=t["signal"])
        for k, v in want.items():
            if r.get(k) != v:
                problem("task %s (%s): %s is %r, expected %r" %
                        (t["name"], t["kind"], k, r.get(k), v))
    run = rep["run"]
    ok = sum(t["status"] == "succeeded" for t in tasks)
    want = {"exit_status": exit_status, "tasks": len(tasks),
            "succeeded": ok, "failed": len(tasks) - ok, "skipped": 0}
    for k, v in want.items():
        if run.get(k) != v:
            problem("run.%s is %r, expected %r" % (k, run.get(k), v))
    finish()


TAGGED = re.compile(r"^([^\t]*)\t(.*)$", re.S)


def parse_tagged(path, names, stream):
    """Returns ({name: [lines]}, [(name, line number)]) for the tagged
    lines of path; untagged lines of the tasks' names are problems."""
    got = defaultdict(list)
    order = []
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        problem("%s does not end with a newline" % stream)
    for no, raw in enumerate(data.split(b"\n")[:-1] if data else [], 1):
        try:
            line = raw.decode()
        except UnicodeDecodeError:
            problem("%s line %d is not UTF-8: %r" % (stream, no, raw[:80]))
            continue
        m = TAGGED.match(line)
        if not m or m.group(1) not in names:
            if stream == "stdout" or not line.startswith("alloter: "):
                problem("%s line %d is not a tagged task line: %r" %
                        (stream, no, line[:120]))
            continue
        name, text = m.group(1), m.group(2)
        if not text.startswith(name + ":"):
            problem("%s line %d is tagged %s but is %r" %
                    (stream, no, name, text[:120]))
        got[name].append(text)
        order.append(name)
    return got, order


def blocks(order):
    """The names in order with runs of one name collapsed."""
    out = []
    for n in order:
        if not out or out[-1] != n:
            out.append(n)
    return out


def check_output(outdir, stdout, stderr, mode):
    tasks = load(outdir)
    names = {t["name"]: t for t in tasks}
    for path, stream, key in ((stdout, "stdout", "out"),
                              (stderr, "stderr", "err")):
        got, order = parse_tagged(path, names, stream)
        for t in tasks:
            g, w = got.get(t["name"], []), t[key]
            # Killed at its deadline before it had written everything: what
            # arrived must be exactly what it had written, a prefix.
            if (t.get("wrote") and not os.path.exists(t["wrote"]) and
                    g == w[:len(g)]):
                continue
            if g != w:
                first = next((k for k in range(min(len(g), len(w)))
                              if g[k] != w[k]), min(len(g), len(w)))
                problem("task %s (%s) %s: got %d lines, expected %d; "
                        "first difference at line %d: got %r, expected %r"
                        % (t["name"], t["kind"], stream, len(g), len(w),
                           first + 1, (g[first:first + 1] or [None])[0][:80]
                           if g[first:first + 1] else None,
                           w[first][:80] if first < len(w) else None))
        if mode.startswith("group"):
            # One block per attempt that wrote to this stream.
            bl = defaultdict(int)
            for n in blocks(order):
                bl[n] += 1
            for n, c in bl.items():
                t = names[n]
                limit = 1 if mode == "group-keep-order" else t["attempts"]
                if c > limit:
                    problem("task %s (%s): its %s is in %d pieces" %
                            (n, t["kind"], stream, c))
            if mode == "group-keep-order":
                idx = {t["name"]: i for i, t in enumerate(tasks)}
                seq = [idx[n] for n in blocks(order)]
                if seq != sorted(seq):
                    bad = next(k for k in range(1, len(seq))
                               if seq[k] < seq[k - 1])
                    problem("%s blocks are not in task order: %s after %s" %
                            (stream, tasks[seq[bad]]["name"],
                             tasks[seq[bad - 1]]["name"]))
    finish()


def check_stderr(outdir, stderr):
    tasks = load(outdir)
    with open(stderr, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    own = [l for l in text.split("\n") if l.startswith("alloter: ")]
    final = defaultdict(list)
    summary = []
    for l in own:
        m = re.match(r"^alloter: task '([^']*)': (.*)$", l)
        if m:
            if not m.group(2).endswith("; retrying)"):
                final[m.group(1)].append(m.group(2))
        elif re.match(r"^alloter: \d+ tasks: ", l):
            summary.append(l)
    for t in tasks:
        f = final.get(t["name"], [])
        if t["status"] == "succeeded":
            if f:
                problem("succeeded task %s (%s) has failure lines %r" %
                        (t["name"], t["kind"], f))
            continue
        if len(f) != 1:
            problem("task %s (%s) has %d failure lines: %r" %
                    (t["name"], t["kind"], len(f), f))
            continue
        if t["status"] == "failed":
            want = "exit status %d" % t["exit_code"]
        elif t["status"] == "crashed":
            want = "killed by %s" % t["signal"]
        else:
            want = "timed out after 100ms"
        if not f[0].startswith(want):
            problem("task %s (%s): failure line %r, expected %r" %
                    (t["name"], t["kind"], f[0], want))
    ok = sum(t["status"] == "succeeded" for t in tasks)
    # With retries the count line also gives every attempt that ran.
    attempts = sum(t["attempts"] for t in tasks)
    tries = " (%d attempts)" % attempts if attempts > len(tasks) else ""
    want = "alloter: %d tasks: %d succeeded, %d failed, 0 skipped%s in " % (
        len(tasks), ok, len(tasks) - ok, tries)
    if len(summary) != 1 or not summary[0].startswith(want):
        problem("summary %r, expected one line starting %r" % (summary, want))
    finish()


def check_joblog(outdir, joblog):
    tasks = load(outdir)
    with open(joblog) as f:
        rows = f.read().split("\n")
    if not rows or not rows[0].startswith("Seq\t"):
        problem("no header line: %r" % rows[:1])
    count = defaultdict(int)
    for r in rows[1:]:
        if r:
            count[r.split("\t")[0]] += 1
    for i, t in enumerate(tasks, 1):
        if count.get(str(i), 0) != t["attempts"]:
            problem("task %s (%s): %d job log lines, expected %d" %
                    (t["name"], t["kind"], count.get(str(i), 0),
                     t["attempts"]))
    if sum(count.values()) != sum(t["attempts"] for t in tasks):
        problem("%d job log lines, expected %d" %
                (sum(count.values()), sum(t["attempts"] for t in tasks)))
    finish()


def main(argv):
    cmd = argv[1]
    if cmd == "gen":
        gen(int(argv[2]), int(argv[3]), argv[4], argv[5], argv[6], argv[7])
    elif cmd == "report":
        check_report(argv[2], argv[3], int(argv[4]))
    elif cmd == "output":
        check_output(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "stderr":
        check_stderr(argv[2], argv[3])
    elif cmd == "joblog":
        check_joblog(argv[2], argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
