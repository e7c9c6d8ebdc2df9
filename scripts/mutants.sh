#!/usr/bin/env bash
# Mutation testing of the scenario suite (issue 14 part 1): every Nacos constant set to a wrong
# value, and a few deliberate code bugs, each run against every scenario; prints the scenario
# that caught each mutant and exits 1 if one survives. Not part of CI (about 10-20 minutes).
# Usage: scripts/mutants.sh [--config-only | --code-only] [--keys k1,k2] [--only TEXT] [--jobs N]
set -euo pipefail
exec python3 "$(dirname "$0")/mutants.py" "$@"
