#!/usr/bin/env bash
# Delivery throughput from the queue to the destinations, ActorMta against Postfix on the
# same machine in the same run. N messages of 4 KiB (default 5,000) are submitted by
# Postfix's smtp-source while delivery is held; delivery is then released and the time until
# every message has reached smtp-sink is measured. Twice: all mail to one destination, and
# spread evenly over 100 destinations (each its own MX address, so each MTA sees 100
# destinations with their own connection limits).
#
#   bench/delivery-throughput.sh [N]     N a multiple of 100
#
# Installs Postfix (for smtp-source, smtp-sink and the comparison) and dnsmasq if missing.
# Everything listens on loopback: 100 smtp-sinks on 127.0.1.1-100, dnsmasq for ActorMta's
# MX lookups, ActorMta and a throwaway Postfix (its own config and queue directory, routed
# to the same sinks by a transport map) on free ports. Both run with their default
# per-destination limits: 20 connections, starting at 5.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5000}
[ $((count % 100)) -eq 0 ] && [ "$count" -gt 0 ] || { echo "N must be a positive multiple of 100" >&2; exit 2; }

. bench/common.sh
install_bench_tools

work=$(mktemp -d /tmp/actormta-throughput.XXXXXX)
chmod 755 "$work"   # Postfix's unprivileged daemons work below it
sink_port=$(free_port); smtp_port=$(free_port); dns_port=$(free_port); postfix_port=$(free_port)
pf="$work/postfix"
mta_pid=; dns_pid=; sink_pids=()
cleanup() {
  [ -n "$mta_pid" ] && kill -9 "$mta_pid" 2>/dev/null || true
  [ -f "$pf/etc/main.cf" ] && postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
  kill "$dns_pid" "${sink_pids[@]}" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "building ActorMta (Release)..."
dotnet publish src/ActorMta.Host -c Release -o "$work/bin" -v quiet -nologo >/dev/null

for i in $(seq 1 100); do
  smtp-sink -u nobody -c "127.0.1.$i:$sink_port" 1024 > "$work/sink.$i" 2>&1 &
  sink_pids+=($!)
done
counter() { sink_counter "$1" "$work"/sink.*; }

records=(--mx-host=one.bench,mx.d1.bench,10)
for i in $(seq 1 100); do records+=("--mx-host=d$i.bench,mx.d$i.bench,10" "--host-record=mx.d$i.bench,127.0.1.$i"); done
dnsmasq --no-daemon --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --local=/bench/ --pid-file= "${records[@]}" 2>/dev/null &
dns_pid=$!

# Submits N messages: to one destination over 20 sessions, or to d1..d100 over 20 parallel
# streams of 5 destinations each.
submit() {
  local port=$1 spread=$2 w j streams=()
  if [ "$spread" = 1 ]; then
    smtp-source -s 20 -l 4096 -m "$count" -f sender@example.test -t user@one.bench "127.0.0.1:$port"
  else
    for w in $(seq 0 19); do
      ( for j in 1 2 3 4 5; do
          smtp-source -s 1 -l 4096 -m $((count / 100)) -f sender@example.test -t "user@d$((w * 5 + j)).bench" "127.0.0.1:$port"
        done ) &
      streams+=($!)
    done
    wait "${streams[@]}"   # not a bare wait: the sinks and dnsmasq are jobs of this shell too
  fi
}

# Waits until the sinks have N more messages than $1; sets seconds to the time since $2 (ns).
drained() {
  local before=$1 start=$2 deadline=$(( $(date +%s) + 3600 ))
  while [ $(( $(counter mesg) - before )) -lt "$count" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out: $(( $(counter mesg) - before )) of $count delivered" >&2; exit 1; }
    sleep 0.5
  done
  seconds=$(echo "scale=2; ($(date +%s%N) - $start) / 1000000000" | bc)
}

cat > "$work/actormta.conf" <<CONF
actormta {
  data-dir = "$work/data"
  smtp.port = $smtp_port
  smtp.max-message-size = 1048576
  delivery { dns-server = "127.0.0.1:$dns_port", port = $sink_port, delay-notice.on-first-failure = off }
}
akka.loglevel = WARNING
CONF

start_mta() { start_actormta "$work/bin" "$work/actormta.conf" "$work/mta.log" ACTORMTA_HOLD="$1"; }
stop_mta() { kill -TERM "$mta_pid"; wait "$mta_pid" 2>/dev/null || true; mta_pid=; }

# Held while the queue fills (ACTORMTA_HOLD), then a restart without the hold releases it:
# the clock starts when the released node listens, so recovering the queue counts.
bench_actormta() {
  rm -rf "$work/data"
  start_mta on
  submit "$smtp_port" "$1"
  stop_mta
  local before opened start
  before=$(counter mesg); opened=$(counter sess)
  start_mta off
  start=$(date +%s%N)
  drained "$before" "$start"
  stop_mta
  # smtp-sink counts a session when it ends; ActorMta's idle sessions end when it stops.
  sessions=$(( $(counter sess) - opened ))
}

# A throwaway Postfix (bench/common.sh) with a transport map that sends each destination to
# its sink. defer_transports holds delivery while the queue fills; reload and flush release it.
postfix_instance "$pf" "$postfix_port"
postconf -c "$pf/etc" -e "transport_maps = texthash:$pf/etc/transport" "defer_transports = smtp"
{ echo "one.bench smtp:[127.0.1.1]:$sink_port"
  for i in $(seq 1 100); do echo "d$i.bench smtp:[127.0.1.$i]:$sink_port"; done; } > "$pf/etc/transport"
postfix -c "$pf/etc" check
postfix -c "$pf/etc" start >/dev/null 2>&1

bench_postfix() {
  postconf -c "$pf/etc" -e "defer_transports = smtp"
  postfix -c "$pf/etc" reload >/dev/null 2>&1
  submit "$postfix_port" "$1"
  local deadline=$(( $(date +%s) + 600 ))
  until [ "$(find "$pf/queue/deferred" -type f | wc -l)" -ge "$count" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "Postfix did not queue all messages" >&2; exit 1; }
    sleep 0.2
  done
  local before opened start
  before=$(counter mesg); opened=$(counter sess)
  postconf -c "$pf/etc" -e "defer_transports ="
  start=$(date +%s%N)
  postfix -c "$pf/etc" reload >/dev/null 2>&1
  postqueue -c "$pf/etc" -f
  drained "$before" "$start"
  sleep 3   # Postfix caches idle sessions for 2 s
  sessions=$(( $(counter sess) - opened ))
}

printf '\n%-18s %-10s %10s %12s %10s %10s\n' "load" "MTA" "seconds" "messages/s" "sessions" "ratio"
for spread in 1 100; do
  label=$([ "$spread" = 1 ] && echo "1 destination" || echo "100 destinations")
  bench_actormta "$spread"; a_seconds=$seconds; a_sessions=$sessions
  bench_postfix "$spread"; p_seconds=$seconds; p_sessions=$sessions
  a_rate=$(echo "scale=1; $count / $a_seconds" | bc); p_rate=$(echo "scale=1; $count / $p_seconds" | bc)
  printf '%-18s %-10s %10s %12s %10s\n' "$label" ActorMta "$a_seconds" "$a_rate" "$a_sessions"
  printf '%-18s %-10s %10s %12s %10s %10s\n' "" Postfix "$p_seconds" "$p_rate" "$p_sessions" "$(echo "scale=2; $a_rate / $p_rate" | bc)"
done
echo "($count messages of 4 KiB per load; ratio = ActorMta / Postfix messages per second)"
