#!/usr/bin/env bash
# Debian packages the test tiers need (root on a fresh machine of this kind). Idempotent.
set -euo pipefail
pkgs=(chromium fonts-dejavu-core)
# Tier owners append their packages in .ci/apt.d/*.list (one package a line).
for f in .ci/apt.d/*.list; do
  [ -e "$f" ] || continue
  while read -r p; do [ -n "$p" ] && [ "${p:0:1}" != "#" ] && pkgs+=("$p"); done < "$f"
done
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "apt: ${#pkgs[@]} packages present"
