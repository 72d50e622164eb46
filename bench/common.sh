# Sourced by the bench scripts: the tools they drive, free loopback ports, bounded waits,
# smtp-sink's counters and a throwaway Postfix instance.

# Postfix brings smtp-source and smtp-sink (and the reference MTA); dnsmasq serves MX records.
install_bench_tools() {
  local need=()
  command -v smtp-source >/dev/null || need+=(postfix)
  command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
  [ ${#need[@]} -gt 0 ] || return 0
  apt-get update -qq
  # Keep Debian from setting up and starting a system mail server.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

fail() { echo "${0##*/}: $*" >&2; exit 1; }

# wait_for SECONDS WHAT COMMAND...: runs COMMAND until it succeeds, every 0.2 s for the first
# 10 s and every 0.5 s after that (the checks take CPU from what is being measured); fails
# the script after SECONDS.
wait_for() {
  local limit=$1 what=$2 begun=$SECONDS
  shift 2
  until "$@"; do
    [ $((SECONDS - begun)) -lt "$limit" ] || fail "timed out after ${limit}s waiting for $what"
    if [ $((SECONDS - begun)) -lt 10 ]; then sleep 0.2; else sleep 0.5; fi
  done
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL if it is still there after SECONDS (default 30).
stop_pid() {
  local pid=$1 deadline=$((SECONDS + ${2:-30}))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

listening() { ss -Hltn "sport = :$1" | grep -q .; }

# start_actormta BIN CONF LOG [VAR=VALUE...]: ActorMta from a published BIN with its default
# logging (a line per message queued and per delivery attempt, as Postfix's maillog has) and the
# given environment, appending to LOG (which may hold an earlier run's); sets mta_pid and
# returns once it listens.
start_actormta() {
  local bin=$1 conf=$2
  mta_log=$3
  shift 3
  touch "$mta_log"
  mta_listened=$(grep -c "SMTP listener on" "$mta_log" || true)
  env "$@" dotnet "$bin/ActorMta.Host.dll" --config "$conf" >> "$mta_log" 2>&1 &
  mta_pid=$!
  wait_for 120 "ActorMta to listen" actormta_listening
}
actormta_listening() {
  kill -0 "$mta_pid" 2>/dev/null || { tail -20 "$mta_log" >&2; fail "ActorMta exited (log above)"; }
  [ "$(grep -c "SMTP listener on" "$mta_log")" -gt "$mta_listened" ]
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# Proportional set size: shared pages divided among the processes that share them.
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }

# sink_counter KEY FILE...: smtp-sink -c keeps running counters ("sess=N quit=N mesg=N",
# separated by CR); the sum over the files of each one's last value of KEY. One awk for all
# files, so that counting takes little CPU from the MTAs; for one large file, pipe its tail
# in (`tail -c 128 FILE | sink_counter KEY -`).
sink_counter() {
  local key=$1
  shift
  awk -v RS='\r' -v key="$key" '{ for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == key) last[FILENAME] = kv[2] }
    END { for (f in last) total += last[f]; print total + 0 }' "$@"
}

# postfix_instance DIR PORT: a throwaway Postfix in DIR: its configuration in DIR/etc (pass
# `-c DIR/etc` to postfix and postconf), queue and data directories beside it, log file
# DIR/maillog; SMTP on 127.0.0.1:PORT, no chroot, relaying for loopback clients only, no TLS.
# Callers add their routing with `postconf -c DIR/etc -e`, then `postfix -c DIR/etc start`;
# DIR's parent must be searchable by Postfix's unprivileged daemons. The queue must not lie
# below the configuration directory: `postfix start` checks that tree file by file, logging a
# warning per queue file, which takes minutes with a large queue.
postfix_instance() {
  local pf=$1 port=$2
  mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
  chown postfix "$pf/data"
  cp /etc/postfix/master.cf "$pf/etc/master.cf"
  cat > "$pf/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
myhostname = bench.example.test
mydomain = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
smtp_tls_security_level = none
smtpd_tls_security_level = none
message_size_limit = 1048576
CONF
  postconf -c "$pf/etc" -M# smtp/inet
  postconf -c "$pf/etc" -M "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd"
  postconf -c "$pf/etc" -F '*/*/chroot = n'
}
