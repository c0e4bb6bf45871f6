#!/usr/bin/env bash
# A short smoke of a built flow checkout on whichever `node` is first on PATH: validate and run the hello
# example, then a run that fails and is resumed. Usage: .ci/smoke.sh [FLOW_CHECKOUT] (default: this one).
set -euo pipefail
flow_dir=$(cd "${1:-$(dirname "$0")/..}" && pwd)
flow() { node "$flow_dir/bin/flow.js" "$@"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
# show FILE...: what flow printed, on the way to a failure.
show() { for f in "$@"; do echo "--- $f" >&2; cat "$f" >&2; done; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
unset FLOW_STATE # the state file must be this temp dir's .flow/state.db, for run and resume alike
cp -r "$flow_dir/workflows" .
echo "smoke: node $(node --version), flow from $flow_dir, in $tmp"

flow validate workflows/hello.yaml >validate.out 2>&1 || { show validate.out; fail "flow validate workflows/hello.yaml"; }
flow run workflows/hello.yaml >hello.out 2>hello.err || { show hello.out hello.err; fail "flow run workflows/hello.yaml did not exit 0"; }
grep -q '"greeting": "HELLO, WORLD"' hello.out || { show hello.out hello.err; fail "flow run workflows/hello.yaml printed no greeting"; }
echo "smoke: validate and run of workflows/hello.yaml: ok"

# Step 'second' fails until the file 'marker' exists; 'first' counts its runs, so a resume must not repeat it.
cat >resume.yaml <<'EOF'
name: resume-smoke
version: "1.0"
steps:
  - id: first
    type: shell
    config:
      run: echo ran >> first.count
  - id: second
    type: shell
    config:
      run: test -f marker
EOF
rc=0
flow run resume.yaml >run.out 2>run.err || rc=$?
[[ $rc -eq 1 ]] || { show run.out run.err; fail "flow run resume.yaml exited $rc, expected 1 (step 'second' fails)"; }
# The first line of progress names the run: "<time> flow: run <id> started: resume-smoke (<path>)".
id=$(sed -n '1s/^[0-9:.]* *flow: run \([^ ]*\) started.*/\1/p' run.err)
[[ -n $id ]] || { show run.err; fail "no run id on the first line of flow run's standard error"; }
echo "smoke: flow run resume.yaml failed as expected (exit 1), run $id"

touch marker
rc=0
flow resume "$id" >resume.out 2>resume.err || rc=$?
[[ $rc -eq 0 ]] || { show resume.out resume.err; fail "flow resume $id exited $rc, expected 0"; }
[[ $(wc -l <first.count) -eq 1 ]] || { show resume.err; fail "flow resume ran the succeeded step 'first' again"; }
echo "smoke: flow resume $id: ok (exit 0, step 'first' not run again)"
