#!/usr/bin/env bash
# Micro-benchmarks of ActorMta's hot paths with BenchmarkDotNet: the edge's work on one
# 4 KiB message, journal event serialization, and the SQLite queue index.
#
#   bench/micro.sh [FILTER] [BenchmarkDotNet options...]
#
# FILTER is a BenchmarkDotNet glob over Namespace.Class.Method, default '*' (all), e.g.
# '*Edge*', '*EventSerialization*', '*QueueStore*', '*QueueIndex*'. Further options go to
# BenchmarkDotNet as they are (e.g. --job medium for tighter error bars).
#
# BenchmarkDotNet's short job (1 launch, 3 warmup and 3 measured iterations) keeps the
# whole run to a few minutes on a 2-core machine that other work shares; its error columns
# say how far to trust each figure. The summary tables are printed at the end; they, the
# CSV/HTML reports and the full log stay in bench/results/micro/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-*}
[ $# -gt 0 ] && shift
out=bench/results/micro

echo "building benchmarks (Release)..."
dotnet build bench/ActorMta.Benchmarks -c Release -nologo -v quiet
rm -rf "$out/results"
mkdir -p "$out"

echo "running '$filter' (full log: $out/run.log)..."
status=0
dotnet bench/ActorMta.Benchmarks/bin/Release/net10.0/ActorMta.Benchmarks.dll \
  --filter "$filter" --job short --artifacts "$out" "$@" > "$out/run.log" 2>&1 || status=$?
if [ "$status" -ne 0 ] || ! ls "$out"/results/*-report-github.md >/dev/null 2>&1; then
  tail -n 40 "$out/run.log"
  echo "benchmarks failed (exit $status); see $out/run.log" >&2
  exit 1
fi

for report in "$out"/results/*-report-github.md; do
  echo
  cat "$report"
done
