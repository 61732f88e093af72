# The NetSecGame server. Multi-stage: dependencies are built in a layer of their own (from the
# manifests alone, with a stub for every target they declare), so editing the sources rebuilds
# only the project's two crates, and editing anything else (README, compose file, tasks)
# rebuilds nothing.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY actors/Cargo.toml actors/
RUN mkdir -p src actors/src/bin/netsecgame benches \
 && touch src/lib.rs actors/src/lib.rs \
 && echo 'fn main() {}' > actors/src/bin/netsecgame/main.rs \
 && for b in $(sed -n '/^\[\[bench\]\]/{n;s/^name = "\(.*\)"/\1/p}' Cargo.toml); do echo 'fn main() {}' > "benches/$b.rs"; done \
 && cargo build --release --locked --bin netsecgame \
 && rm -rf src actors/src benches
COPY src src
COPY actors/src actors/src
COPY benches benches
COPY scenarios scenarios
COPY tasks tasks
# The copied sources may be older than the stub build: make sure cargo rebuilds them.
RUN touch src/lib.rs actors/src/lib.rs actors/src/bin/netsecgame/main.rs \
 && cargo build --release --locked --bin netsecgame

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /netsecgame --no-create-home netsecgame
WORKDIR /netsecgame
COPY --from=build /src/target/release/netsecgame /usr/local/bin/netsecgame
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY tasks /netsecgame/tasks
# Upstream's image reads its task from /netsecgame/netsecenv_conf.yaml; mount yours there.
COPY tasks/default.yaml /netsecgame/netsecenv_conf.yaml
RUN mkdir -p /netsecgame/logs && chown -R netsecgame:netsecgame /netsecgame
# 9000: the game; 8080: the web view (watch agents play, /metrics).
EXPOSE 9000 8080
# `netsecgame health` connects and checks that the server answers (the image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["netsecgame", "health", "--addr", "127.0.0.1:9000", "--timeout", "3"]
# The entrypoint drops root for the `netsecgame` user (after making a mounted logs folder
# writable) and execs the server, which is then PID 1 and handles SIGTERM/SIGINT itself.
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve", "--game_host", "0.0.0.0", "--game_port", "9000", "--task_config", "netsecenv_conf.yaml", "--log_dir", "logs", "--trajectory_dir", "logs/trajectories", "--http", "0.0.0.0:8080"]
