# Sourced by the bench scripts: the tools they drive, and free loopback ports.

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
