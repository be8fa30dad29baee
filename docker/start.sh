#!/usr/bin/env bash
# mlmaster's start script for MLE-bench (agents/<agent>/start.sh in its agent registry).
#
# MLE-bench runs it inside the agent container as `bash ${AGENT_DIR}/start.sh [--flag value]...`
# with COMPETITION_ID and the config.yaml env_vars set. It runs one mlmaster search on the
# public data and leaves, as the harness expects:
#   ${SUBMISSION_DIR}/submission.csv   the best solution's submission (the only graded file)
#   ${CODE_DIR}/                       the best solution's script and record
#   ${LOGS_DIR}/<run-id>/              the run directory without the scripts' workspaces:
#                                      journal, log, report, each node's code and output
# Every path comes from the environment with MLE-bench's path as default, so the script also
# runs on a host with temporary folders. Arguments are passed on to `mlmaster run`.
set -uo pipefail

DATA_DIR=${DATA_DIR:-/home/data}
SUBMISSION_DIR=${SUBMISSION_DIR:-/home/submission}
CODE_DIR=${CODE_DIR:-/home/code}
LOGS_DIR=${LOGS_DIR:-/home/logs}
AGENT_DIR=${AGENT_DIR:-/home/agent}
RUNS_DIR=${RUNS_DIR:-${AGENT_DIR}/runs}
MLMASTER_BIN=${MLMASTER_BIN:-mlmaster}
# MLE-bench's validation server; ours has the same contract.
export MLMASTER_GRADER__URL=${MLMASTER_GRADER__URL:-http://localhost:5000}
export MLMASTER_PROFILE=${MLMASTER_PROFILE:-mlebench}
# The container is the machine MLE-bench allots: use every CPU and GPU it has, not the
# profile's fixed ids (0-35, GPU 0), which a smaller container lacks.
export MLMASTER_EXECUTION__CPUS=${MLMASTER_EXECUTION__CPUS:-all}
export MLMASTER_EXECUTION__GPUS=${MLMASTER_EXECUTION__GPUS:-auto}
# Seconds kept between the search's deadline and TIME_LIMIT_SECS, for copying the outputs.
MARGIN_SECS=${MARGIN_SECS:-60}

fail() {
    echo "start.sh: $*" >&2
    exit 2
}

[[ -n "${COMPETITION_ID:-}" ]] \
    || fail "COMPETITION_ID is not set; MLE-bench sets it to the competition's id (e.g. spaceship-titanic)"
[[ -d "${DATA_DIR}" ]] \
    || fail "the data folder ${DATA_DIR} does not exist; mount the competition's public files there or set DATA_DIR"
command -v "${MLMASTER_BIN}" >/dev/null \
    || fail "${MLMASTER_BIN} is not on PATH; install mlmaster or set MLMASTER_BIN"
mkdir -p "${SUBMISSION_DIR}" "${CODE_DIR}" "${LOGS_DIR}" "${RUNS_DIR}" \
    || fail "cannot create the output folders under ${SUBMISSION_DIR}, ${CODE_DIR}, ${LOGS_DIR}, ${RUNS_DIR}"

# A known run id, so the run directory can be found afterwards.
export MLMASTER_RUN__RUN_ID=${MLMASTER_RUN__RUN_ID:-mlebench-$(date -u +%Y%m%d-%H%M%S)}
RUN_DIR="${RUNS_DIR}/${COMPETITION_ID}/${MLMASTER_RUN__RUN_ID}"

command=("${MLMASTER_BIN}" --log-level info run "${COMPETITION_ID}"
    --public-dir "${DATA_DIR}"
    --runs-dir "${RUNS_DIR}"
    --output "${SUBMISSION_DIR}/submission.csv")
guard=()
if [[ -n "${TIME_LIMIT_SECS:-}" ]]; then
    [[ "${TIME_LIMIT_SECS}" =~ ^[0-9]+$ && "${TIME_LIMIT_SECS}" -gt 0 ]] \
        || fail "TIME_LIMIT_SECS must be a whole number of seconds above zero (got '${TIME_LIMIT_SECS}')"
    # Short limits (tests, smoke runs) keep a tenth back instead of the full margin.
    margin=$((TIME_LIMIT_SECS / 10 < MARGIN_SECS ? TIME_LIMIT_SECS / 10 : MARGIN_SECS))
    command+=(--time-limit "$((TIME_LIMIT_SECS - margin))")
    # mlmaster keeps its own deadline; this only stops a run that overstays it. SIGTERM makes
    # mlmaster write its best solution and exit; SIGKILL follows if it does not.
    guard=(timeout --signal=TERM --kill-after=30 "${TIME_LIMIT_SECS}")
fi

# The scripts' sandbox: say up front whether bubblewrap can run in this container (mlmaster
# probes it again and falls back to no sandbox, with a warning, when it cannot).
if ! command -v bwrap >/dev/null; then
    echo "start.sh: bubblewrap is not installed: scripts will run unsandboxed" >&2
elif ! probe=$(bwrap --unshare-user --unshare-net --cap-drop ALL --ro-bind / / true 2>&1); then
    echo "start.sh: bubblewrap cannot run here (${probe}): scripts will run unsandboxed;" \
        "allow namespaces (e.g. --security-opt seccomp=unconfined) to sandbox them" >&2
else
    echo "start.sh: bubblewrap works: scripts run sandboxed"
fi

echo "start.sh: ${COMPETITION_ID}: profile ${MLMASTER_PROFILE}, data ${DATA_DIR}, run ${RUN_DIR}"
"${guard[@]}" "${command[@]}" "$@" 2>&1 | tee "${LOGS_DIR}/console.log"
status=${PIPESTATUS[0]}
if [[ ${status} -eq 124 ]]; then
    echo "start.sh: mlmaster overstayed TIME_LIMIT_SECS=${TIME_LIMIT_SECS} and was stopped"
fi

# Outputs, whatever the exit: a run that ended early may still have a best solution.
if [[ ! -d "${RUN_DIR}" ]]; then
    # Not where expected (e.g. a --resume argument): take the newest run of the competition.
    RUN_DIR=""
    for candidate in "${RUNS_DIR}/${COMPETITION_ID}"/*/; do
        [[ -d "${candidate}" ]] || continue
        if [[ -z "${RUN_DIR}" || "${candidate}" -nt "${RUN_DIR}" ]]; then
            RUN_DIR=${candidate%/}
        fi
    done
fi
if [[ -n "${RUN_DIR}" && -d "${RUN_DIR}" ]]; then
    # The logs stay small: a node's workspace/ (its working/ is also the scripts' HOME and
    # temp: extracted archives, checkpoints) is left out; links are copied as links.
    tar -C "$(dirname "${RUN_DIR}")" --exclude='./*/nodes/*/workspace' \
        -cf - "./$(basename "${RUN_DIR}")" | tar -C "${LOGS_DIR}" -xf - \
        || echo "start.sh: copying the run directory into ${LOGS_DIR} failed" >&2
    if [[ -d "${RUN_DIR}/best" ]]; then
        cp -R -P "${RUN_DIR}/best/." "${CODE_DIR}/"
        if [[ ! -f "${SUBMISSION_DIR}/submission.csv" && -f "${RUN_DIR}/best/submission.csv" ]]; then
            cp "${RUN_DIR}/best/submission.csv" "${SUBMISSION_DIR}/submission.csv"
        fi
    fi
else
    echo "start.sh: no run directory under ${RUNS_DIR}/${COMPETITION_ID}; nothing to copy" >&2
fi
if [[ -f "${SUBMISSION_DIR}/submission.csv" ]]; then
    echo "start.sh: submission at ${SUBMISSION_DIR}/submission.csv"
else
    echo "start.sh: no submission was produced" >&2
fi
exit "${status}"
