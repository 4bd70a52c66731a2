#!/bin/sh
# Fetches Swagger UI for the gateway's /docs page: `npm ci` here (pinned by
# package-lock.json; no install scripts run), then copies the files the page
# serves into web/vendor/, which the gateway embeds. `make build` and
# deploy/Dockerfile run it; nothing it writes is committed.
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
d=node_modules/swagger-ui-dist
mkdir -p web/vendor
install -m 0644 "$d/swagger-ui-bundle.js" "$d/swagger-ui.css" "$d/favicon-32x32.png" web/vendor/
install -m 0644 "$d/LICENSE" web/vendor/LICENSE.txt
install -m 0644 "$d/NOTICE" web/vendor/NOTICE.txt
touch web/vendor/.fetched
