#!/usr/bin/env python3
"""aws_batch.py [AWS OPTION...]: runs the aws CLI commands read from stdin,
one per line (the words after "aws", shell-quoted), with the options given
first (e.g. --endpoint-url URL), in this one interpreter: an `aws` start
costs about a second of CPU on slow machines.  Stops at the first command
that fails, with its exit status."""
import shlex
import subprocess
import sys

try:
    from awscli.clidriver import create_clidriver
except ImportError:
    create_clidriver = None

driver = create_clidriver() if create_clidriver else None
for line in sys.stdin:
    words = sys.argv[1:] + shlex.split(line)
    if len(words) == len(sys.argv) - 1:
        continue
    rc = driver.main(words) if driver else subprocess.run(["aws"] + words).returncode
    if rc:
        sys.exit(f"aws {line.strip()}: exit {rc}")
