#!/usr/bin/env bash
# A queue of N deferred messages (default 100,000): how much memory it takes, and whether
# every one is still scheduled after the process is killed and restarted.
#
#   bench/deferred-queue.sh [N]
#
# Installs Postfix's smtp-source and dnsmasq if missing. Everything runs on loopback:
# the destination's MX (127.0.0.11) refuses connections, so every message is deferred.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}

. bench/common.sh
install_bench_tools

work=$(mktemp -d /tmp/actormta-deferred-queue.XXXXXX)
dotnet publish src/ActorMta.Host -c Release -o "$work/bin" -v quiet -nologo >/dev/null
smtp_port=$(free_port); dns_port=$(free_port)

dnsmasq --no-daemon --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --local=/bench/ --mx-host=down.bench,mx.down.bench,10 --host-record=mx.down.bench,127.0.0.11 --pid-file= &
dns_pid=$!
cat > "$work/bench.conf" <<CONF
actormta {
  data-dir = "$work/data"
  smtp.port = $smtp_port
  smtp.max-message-size = 1048576
  queue.first-retry = 1h
  delivery { dns-server = "127.0.0.1:$dns_port", port = 2525, connect-timeout = 2s, delay-notice.on-first-failure = off }
}
akka.loglevel = WARNING
CONF

mta_pid=
startup_ms=
start_mta() {
  local started
  started=$(date +%s%N)
  start_actormta "$work/bin" "$work/bench.conf" "$work/mta.log"
  startup_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
count_rows() { sqlite3 "$work/data/queue.db" "select count(*) from queue where state = '$1'"; }
cleanup() { kill -9 "$mta_pid" "$dns_pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

start_mta
sleep 2
idle=$(rss_mb "$mta_pid")

begin=$(date +%s)
smtp-source -s 20 -l 4096 -m "$count" -f sender@example.test -t someone@down.bench "127.0.0.1:$smtp_port"
accepted=$(( $(date +%s) - begin ))
deadline=$(( $(date +%s) + 1800 ))
while [ "$(count_rows deferred)" -lt "$count" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 2; done
deferred=$(count_rows deferred)
loaded=$(rss_mb "$mta_pid")
before=$(sqlite3 "$work/data/queue.db" "select sum(due_at) from queue")

kill -9 "$mta_pid"
wait "$mta_pid" 2>/dev/null || true
start_mta
sleep 5
after_rss=$(rss_mb "$mta_pid")
after=$(sqlite3 "$work/data/queue.db" "select sum(due_at) from queue")
still=$(count_rows deferred)

printf '\n%-52s %s\n' "messages submitted (smtp-source, 20 sessions)" "$count in ${accepted}s"
printf '%-52s %s\n' "deferred in the queue index" "$deferred"
printf '%-52s %s MB\n' "RSS idle" "$idle"
printf '%-52s %s MB\n' "RSS with the deferred queue" "$loaded"
printf '%-52s %s ms\n' "restart after SIGKILL until listening" "$startup_ms"
printf '%-52s %s\n' "deferred after restart" "$still"
printf '%-52s %s\n' "retry times unchanged by the restart" "$([ "$before" = "$after" ] && echo yes || echo NO)"
printf '%-52s %s MB\n' "RSS 5 s after restart" "$after_rss"
