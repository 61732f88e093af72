# Multi-stage build of the NetSecGame server.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin netsecgame

FROM debian:bookworm-slim
WORKDIR /netsecgame
COPY --from=build /src/target/release/netsecgame /usr/local/bin/netsecgame
COPY tasks /netsecgame/tasks
EXPOSE 9000
ENTRYPOINT ["netsecgame"]
# Upstream's image listens on 0.0.0.0:9000 with the task at a fixed path; so do we.
CMD ["serve", "--game_host", "0.0.0.0", "--game_port", "9000", "--task_config", "tasks/default.yaml", "--log_dir", "logs", "--trajectory_dir", "logs/trajectories"]
