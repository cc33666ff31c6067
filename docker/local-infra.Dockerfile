# NATS, Postgres and a mail sink for docker/compose.local.yaml, where the official nats,
# postgres and maildev images cannot be pulled: the local node base
# (tools/make-base-image.sh) with Debian's nats-server, postgresql and curl (the health
# checks: lighter than a node process on a busy host) and npm's maildev.
# Made by `tools/make-base-image.sh --infra` (build context: docker/).
ARG NODE_IMAGE=posthooks/node-base:bookworm
FROM ${NODE_IMAGE}
ARG NPM_REGISTRY=
ARG MAILDEV_VERSION=3.0.0
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server postgresql curl \
  && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*
RUN npm install -g --no-audit --no-fund maildev@${MAILDEV_VERSION} ${NPM_REGISTRY:+--registry=$NPM_REGISTRY} && npm cache clean --force
COPY local-infra/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
# The volumes' mount points, owned by the users that write them (compose.local.yaml:
# nats and maildev run as node, Postgres as postgres).
RUN mkdir -p /data /var/lib/postgresql/data && chown node:node /data && chown postgres:postgres /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data
