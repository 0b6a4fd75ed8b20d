#!/usr/bin/env python3
"""ferry's ssh_config resolution against OpenSSH's own: random ssh_config
files (Host patterns and negations, Match, Include, tokens, quoting, repeated
keywords, a few broken lines), each resolved by `ssh -G -F FILE HOST` and by
`ferry config --ssh HOST`, the values ferry uses compared line by line.

usage: ssh_config_gen.py DIR FERRY SEED COUNT     run COUNT cases
       ssh_config_gen.py DIR FERRY SEED --case N  one case, shown in full
Prints "ok - ..." / "not ok - ..." lines for tests/run.  Every case is
seeded with SEED*100000+N, so a failure replays with --case N."""
import os
import random
import shutil
import subprocess
import sys

KEYS = ["user", "hostname", "port", "hashknownhosts", "identitiesonly",
        "stricthostkeychecking", "serveralivecountmax", "serveraliveinterval",
        "hostkeyalias", "identityagent", "identityfile", "globalknownhostsfile",
        "userknownhostsfile", "connecttimeout", "proxyjump", "proxycommand"]

QUERY = ["db-dev", "DB-Dev", "web", "bastion", "web.example.com", "10.0.0.5",
         "127.1", "app1", "x", "db-dev.example.com"]
PATTERNS = ["*", "db-*", "*-dev", "web", "web*", "*.example.com", "?b-dev",
            "app?", "10.0.0.*", "bastion", "DB-Dev", "x", "*.local", "nomatch",
            "db-dev", "127.*", "*dev*"]
USERS = ["root", "bob", "alice", "deploy", "b*", "r??t", "*"]
VALUES = {
    "HostName": ["%h.example.com", "10.0.0.9", "real-%h", "Upper.Example.COM",
                 "%%h-lit", "127.0.0.1", "127.1", "::1", "%h", "db-dev",
                 "bastion.internal"],
    "User": ["bob", "alice", "deploy", "ferry", "root"],
    "Port": ["2222", "22", "ssh", "8022", "022"],
    "IdentityFile": ["~/.ssh/id_a", "%d/.ssh/id_%h", "/keys/%r@%h:%p",
                     "~/.ssh/id_%u_%n", "id_rel", '"/path with space/key"',
                     "%%literal", "~/.ssh/id_a", "/k/%C", "/k/%l-%L-%i-%k"],
    "UserKnownHostsFile": ["~/.ssh/kh1", "%d/kh_%h", "/tmp/kh-%C", "/kh/%k",
                           "${HOME}/kh", "/kh/%r-%p", "~/.ssh/kh1 /etc/kh2",
                           "none", "/kh/%n %d/x"],
    "GlobalKnownHostsFile": ["/etc/ssh/g1", "~/g2 /x/%h", "none", "/g3"],
    "StrictHostKeyChecking": ["yes", "no", "ask", "accept-new", "off",
                              "true", "false", "Yes", "ACCEPT-NEW"],
    "HostKeyAlias": ["MyAlias", "db.internal", "alias-%h"],
    "HashKnownHosts": ["yes", "no", "true", "false"],
    "IdentitiesOnly": ["yes", "no", "True"],
    "IdentityAgent": ["none", "SSH_AUTH_SOCK", "~/agent.sock", "/run/agent-%h",
                      "${HOME}/a.sock", "$SSH_AUTH_SOCK", "%d/%u.sock"],
    "ProxyJump": ["bastion", "alice@bastion:2200", "a,b", "bob@j1,j2:2022,j3",
                  "none", "ssh://carol@jump:23", "10.0.0.1", "jump # note",
                  "[fe80::1]:2222", "NONE"],
    "ProxyCommand": ["nc %h %p", "ssh -W %h:%p gw", "none",
                     "socat - TCP:%h:%p # c", "/usr/bin/nc -X connect %h %p"],
    "ConnectTimeout": ["10", "1m", "none", "0", "1h30m", "5s"],
    "ServerAliveInterval": ["15", "30s", "none", "2m", "0"],
    "ServerAliveCountMax": ["3", "0", "010", "7"],
}
IGNORED = ["ForwardAgent no", "SendEnv LANG LC_*", "Compression yes",
           "LogLevel ERROR", "ControlMaster auto", "AddKeysToAgent yes",
           "ServerAliveCountMax 4", "TCPKeepAlive yes"]
BROKEN = ["Port 0", "Port nope", "StrictHostKeyChecking maybe", "User",
          "HostName a b", "Match", "UserKnownHostsFile a none",
          "ProxyJump @x", 'IdentityFile "unterminated', "Match host",
          "Match foo bar", "ConnectTimeout soon", "ServerAliveCountMax -1",
          "Match all host x", "IdentityAgent ${NO_SUCH_VAR_FERRY}",
          "IdentityAgent $bad-name", "HashKnownHosts maybe"]


def spell(rnd, kw):
    """A keyword as someone might type it."""
    r = rnd.random()
    if r < 0.6:
        return kw
    if r < 0.8:
        return kw.lower()
    if r < 0.9:
        return kw.upper()
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in kw)


def sep(rnd):
    return rnd.choice([" ", " ", " ", "=", " = ", "\t", "  ", "= "])


def quoted(rnd, value):
    if " " not in value and '"' not in value and rnd.random() < 0.15:
        return '"' + value + '"'
    return value


def pattern_list(rnd, n, comma):
    pats = []
    for _ in range(n):
        p = rnd.choice(PATTERNS)
        if rnd.random() < 0.2:
            p = "!" + p
        pats.append(p)
    return ",".join(pats) if comma else " ".join(pats)


def match_line(rnd):
    if rnd.random() < 0.1:
        return rnd.choice(["all", "canonical all", "final all", "!all"])
    crit = []
    for _ in range(rnd.randint(1, 3)):
        c = rnd.choice(["host", "host", "originalhost", "user", "localuser",
                        "exec", "final", "canonical", "!host", "!user"])
        if c in ("final", "canonical"):
            crit.append(c)
        elif c.endswith("user") and c != "localuser":
            crit.append("%s %s" % (c, ",".join(rnd.sample(USERS, rnd.randint(1, 2)))))
        elif c == "localuser":
            crit.append("localuser " + rnd.choice(["root", "nobody", "r*"]))
        elif c == "exec":
            crit.append("exec " + rnd.choice(["true", "false",
                                              '"test %h = db-dev"',
                                              '"test %n = %h"',
                                              '"test %r = bob"']))
        else:
            crit.append("%s %s" % (c, pattern_list(rnd, rnd.randint(1, 3), True)))
    return " ".join(crit)


def option_line(rnd):
    kw = rnd.choice(list(VALUES))
    value = rnd.choice(VALUES[kw])
    if kw not in ("ProxyCommand", "ProxyJump"):
        value = quoted(rnd, value)
    line = spell(rnd, kw) + sep(rnd) + value
    if rnd.random() < 0.1 and kw not in ("ProxyCommand",):
        line += " # a note"
    return line


def lines(rnd, n, includes):
    out = []
    for _ in range(n):
        r = rnd.random()
        indent = rnd.choice(["", "", "  ", "\t", "    "])
        if r < 0.14:
            out.append("%s%s %s" % (spell(rnd, "Host"),
                                    rnd.choice([" ", "="]),
                                    pattern_list(rnd, rnd.randint(1, 3), False)))
        elif r < 0.24:
            out.append(spell(rnd, "Match") + " " + match_line(rnd))
        elif r < 0.28 and includes:
            out.append(indent + spell(rnd, "Include") + " " + rnd.choice(includes))
        elif r < 0.31:
            out.append(indent + rnd.choice(IGNORED))
        elif r < 0.34:
            out.append(rnd.choice(["", "# a comment", "   ", "  # indented"]))
        else:
            out.append(indent + option_line(rnd))
    return out


def build(root, seed):
    """Writes one case under root; returns (config, host, user, port)."""
    rnd = random.Random(seed)
    if os.path.exists(root):
        shutil.rmtree(root)
    home = os.path.join(root, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    # Include targets: absolute, relative (under ~/.ssh), globbed, ~/.
    names = []
    for i in range(rnd.randint(0, 3)):
        where = rnd.choice(["abs", "rel", "tilde"])
        if where == "abs":
            path = os.path.join(root, "inc%d.conf" % i)
            ref = path
        elif where == "rel":
            path = os.path.join(home, ".ssh", "inc%d.conf" % i)
            ref = rnd.choice(["inc%d.conf" % i, "inc*.conf", "inc%d.*" % i])
        else:
            path = os.path.join(home, ".ssh", "t%d.conf" % i)
            ref = "~/.ssh/t%d.conf" % i
        names.append((path, ref))
    refs = [r for _, r in names] + ["nothing-here-*.conf"]
    for path, _ in names:
        with open(path, "w") as f:
            f.write("\n".join(lines(rnd, rnd.randint(2, 8), [])) + "\n")
    main = lines(rnd, rnd.randint(4, 24), refs)
    if rnd.random() < 0.06:
        main.insert(rnd.randint(0, len(main)), rnd.choice(BROKEN))
    config = os.path.join(root, "config")
    with open(config, "w") as f:
        f.write("\n".join(main) + "\n")
    host = rnd.choice(QUERY)
    user = rnd.choice(["bob", "deploy"]) if rnd.random() < 0.2 else None
    port = rnd.choice(["2200", "22"]) if rnd.random() < 0.15 else None
    return config, home, host, user, port


def keep(text):
    """The lines of KEYS, grouped by keyword, each group in its order."""
    rows = [l for l in text.splitlines() if l.split(" ", 1)[0] in KEYS]
    return sorted(rows, key=lambda l: KEYS.index(l.split(" ", 1)[0]))


def run_case(root, ferry, seed):
    config, home, host, user, port = build(root, seed)
    env = dict(os.environ, HOME=home, SHELL="/bin/sh")
    env.pop("SSH_AUTH_SOCK", None)
    cmd = ["ssh", "-G", "-F", config]
    ini = os.path.join(root, "ferry.ini")
    with open(ini, "w") as f:
        f.write("[server]\nhost = placeholder.invalid\nssh_config = %s\n" % config)
        if user:
            f.write("user = %s\n" % user)
            cmd += ["-l", user]
        if port:
            f.write("port = %s\n" % port)
            cmd += ["-p", port]
    os.chmod(ini, 0o600)
    cmd.append(host)
    ssh = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    fer = subprocess.run([ferry, "-c", ini, "config", "--ssh", host], env=env,
                         capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    if ssh.returncode != 0:
        if fer.returncode != 2:
            return "ssh -G failed (%s) but ferry exited %d" % (
                ssh.stderr.strip().splitlines()[-1:], fer.returncode), config, host
        return None, config, host
    if fer.returncode != 0:
        return "ferry exited %d: %s" % (fer.returncode, fer.stderr.strip()), config, host
    want, got = keep(ssh.stdout), keep(fer.stdout)
    if want != got:
        diff = [("- " + w) for w in want if w not in got] + \
               [("+ " + g) for g in got if g not in want]
        return "differs from ssh -G: %s" % " | ".join(diff[:6] or ["(order)"]), config, host
    return None, config, host


def main():
    root, ferry, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if sys.argv[4] == "--case":
        n = int(sys.argv[5])
        why, config, host = run_case(os.path.join(root, "case"), ferry,
                                     seed * 100000 + n)
        print(open(config).read())
        print("host:", host, "->", why or "same as ssh -G")
        return 0 if not why else 1
    count = int(sys.argv[4])
    bad = errors = 0
    for n in range(count):
        why, _, host = run_case(os.path.join(root, "case"), ferry,
                                seed * 100000 + n)
        if why:
            bad += 1
            if bad <= 5:
                print("not ok - ssh_config case %d (host %s; replay: "
                      "tests/ssh_config_gen.py DIR FERRY %d --case %d): %s"
                      % (n, host, seed, n, why))
    shutil.rmtree(os.path.join(root, "case"), ignore_errors=True)
    print("# seed %d: %d of %d configs differ from ssh -G" % (seed, bad, count))
    if bad == 0:
        print("ok - ssh_config: %d random configs resolve as ssh -G does "
              "(seed %d)" % (count, seed))
    elif bad > 5:
        print("not ok - ssh_config: %d more cases differ" % (bad - 5))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
