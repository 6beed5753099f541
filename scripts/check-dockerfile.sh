#!/usr/bin/env bash
# Build and run the Dockerfile where there is no Docker engine and no Docker Hub
# (Debian 12, as root): podman, and a stand-in for python:3.11-slim-bookworm made with
# debootstrap from Debian's mirror (python/pip on PATH, no PEP 668 marker, as in the
# official image). Checks the health endpoint, the page, the user and the data volume,
# then stops and removes the container. Where Docker runs, `docker build` is all it takes.
#
#   bash scripts/check-dockerfile.sh        (about 5 minutes the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/digit-lens-docker}
BASE=docker.io/library/python:3.11-slim-bookworm
export DEBIAN_FRONTEND=noninteractive
command -v podman >/dev/null || { apt-get update -qq && apt-get install -y -qq podman buildah runc debootstrap >/dev/null; }

if ! podman image exists "$BASE"; then
    mkdir -p "$WORK" && rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
        bookworm "$WORK/rootfs" http://deb.debian.org/debian
    rm -f "$WORK"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
    ln -sf /usr/bin/python3 "$WORK/rootfs/usr/local/bin/python"
    ln -sf /usr/bin/pip3 "$WORK/rootfs/usr/local/bin/pip"
    chroot "$WORK/rootfs" apt-get clean
    rm -rf "$WORK"/rootfs/var/lib/apt/lists/*
    tar -C "$WORK/rootfs" -c . | podman import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' - "$BASE"
fi

# chroot isolation: podman's runtime cannot run RUN steps on this host's hybrid cgroups.
# The host's CA bundle is mounted for the RUN steps (PyPI is reached through a TLS proxy
# here). --format docker keeps the HEALTHCHECK, which the OCI format drops.
podman build --format docker --isolation chroot --pull=never --network host \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    -t localhost/digit-lens:latest .

# runc, and ulimits this host lets a container set (no CAP_SYS_RESOURCE here).
podman rm -f digit-lens-check >/dev/null 2>&1 || true
podman --runtime runc run -d --name digit-lens-check --network host \
    --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
    -v digit-lens-check-data:/data localhost/digit-lens:latest >/dev/null
trap 'podman stop -t 5 digit-lens-check >/dev/null; podman rm digit-lens-check >/dev/null' EXIT
for _ in $(seq 120); do
    [ "$(curl -s --max-time 2 http://127.0.0.1:8501/_stcore/health)" = ok ] && break
    sleep 0.5
done
echo "health: $(curl -s --max-time 2 http://127.0.0.1:8501/_stcore/health)"
curl -s --max-time 5 http://127.0.0.1:8501/ | grep -q '<div id="root">' && echo "page: served"
podman exec digit-lens-check sh -c 'echo "user: $(id -un)"; touch /data/.probe && rm /data/.probe && echo "/data: writable"'
podman healthcheck run digit-lens-check && echo "HEALTHCHECK: healthy"
podman image ls localhost/digit-lens:latest --format 'image: {{.Size}}'
