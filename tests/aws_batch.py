#!/usr/bin/env python3
"""aws_batch.py [AWS OPTION...]: runs the aws CLI commands read from stdin,
one per line (the words after "aws", shell-quoted), with the options given
first (e.g. --endpoint-url URL), in this one interpreter: an `aws` start
costs about a second of CPU on slow machines.  A line's output is dropped,
or written to FILE when the line starts with ">FILE ".  Stops at the first
command that fails, with its exit status.  aws_run() is that runner for other
scripts (s3_compare.py)."""
import contextlib
import io
import os
import shlex
import subprocess
import sys

try:
    from awscli.clidriver import create_clidriver
except ImportError:
    create_clidriver = None

DRIVER = []


def aws_run(argv):
    """Runs argv (["aws", ...] or another command); (exit status, stdout).
    The aws CLI runs in this process when this Python has its module."""
    if create_clidriver and os.path.basename(argv[0]) == "aws":
        if not DRIVER:
            DRIVER.append(create_clidriver())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = DRIVER[0].main(argv[1:])
        return rc, out.getvalue()
    done = subprocess.run(argv, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    return done.returncode, done.stdout


if __name__ == "__main__":
    for line in sys.stdin:
        words = shlex.split(line)
        to = words.pop(0)[1:] if words and words[0].startswith(">") else None
        if not words:
            continue
        rc, out = aws_run(["aws"] + sys.argv[1:] + words)
        if rc:
            sys.exit(f"aws {line.strip()}: exit {rc}")
        if to:
            with open(to, "w") as f:
                f.write(out)
