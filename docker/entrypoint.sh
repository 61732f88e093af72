#!/bin/sh
# Runs netsecgame as the unprivileged `netsecgame` user. Started as root (the default), it
# first makes the folders the server writes to (a bind-mounted ./logs or ./results, which
# Docker creates owned by root) writable for that user, then drops privileges. Started with
# `--user`, it runs as given.
set -e
if [ "$(id -u)" = "0" ]; then
  for dir in /netsecgame/logs /netsecgame/results; do
    if [ -d "$dir" ]; then
      chown netsecgame:netsecgame "$dir" 2>/dev/null || true
    fi
  done
  exec setpriv --reuid=netsecgame --regid=netsecgame --init-groups netsecgame "$@"
fi
exec netsecgame "$@"
