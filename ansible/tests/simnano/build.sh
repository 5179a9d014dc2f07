#!/usr/bin/env bash
# Builds the simulated-Nano image from a debootstrapped Debian bookworm root (no registry needed):
# systemd as PID 1, sshd, a sudo user `jetson`, L4T's release file and stand-in Nano tools.
# Usage: build.sh STATE_DIR PUBKEY_FILE   (env PODMAN: podman with this tier's storage flags)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$1 pubkey=$2
rootfs=$state/rootfs
image=${SIMNANO_IMAGE:-localhost/simnano:latest}
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
pkgs=systemd,systemd-sysv,dbus,openssh-server,sudo,python3,python3-venv,python3-pip,procps,util-linux,patch

if [ ! -e "$state/rootfs.done" ]; then  # the slow step (~100 s): cached across starts
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include="$pkgs" bookworm "$rootfs" "$mirror" > "$state/debootstrap.log"
  touch "$state/rootfs.done"
fi

# What a flashed Nano has that Debian lacks: the L4T release line, the board model, NVIDIA's tools.
install -D -m 0644 "$here/files/nv_tegra_release" "$rootfs/etc/nv_tegra_release"
install -D -m 0644 "$here/files/device-tree-model" "$rootfs/etc/simnano/device-tree-model"
install -D -m 0755 "$here/files/nvpmodel" "$rootfs/usr/sbin/nvpmodel"
install -D -m 0755 "$here/files/jetson_clocks" "$rootfs/usr/bin/jetson_clocks"
install -D -m 0755 "$here/files/tegrastats" "$rootfs/usr/bin/tegrastats"
install -d -m 0755 "$rootfs/var/lib/simnano"
# The user a flashed Nano's first boot creates, with sudo, reached by key like a real one.
chroot "$rootfs" id jetson >/dev/null 2>&1 || chroot "$rootfs" useradd -m -s /bin/bash jetson
echo 'jetson ALL=(ALL) NOPASSWD:ALL' > "$rootfs/etc/sudoers.d/jetson"
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/jetson/.ssh"
install -m 0600 -o 1000 -g 1000 "$pubkey" "$rootfs/home/jetson/.ssh/authorized_keys"
# Consoles and udev have nothing to do in a container; sshd is what Ansible needs.
for u in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$u"
done
chroot "$rootfs" systemctl enable ssh.service >/dev/null 2>&1

$PODMAN image rm -f "$image" >/dev/null 2>&1 || true
tar -C "$rootfs" -c . | $PODMAN import --change 'CMD ["/sbin/init"]' - "$image" >/dev/null 2>&1
echo "simnano: image $image built"
