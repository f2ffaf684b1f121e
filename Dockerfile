# Production-like image of the service (used by docker-compose.yml).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/ordersearch /usr/local/bin/ordersearch
ENV ORDERSEARCH_BIND=0.0.0.0:8080 ORDERSEARCH_DATA_DIR=/data ORDERSEARCH_LOG_JSON=true
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["ordersearch"]
CMD ["serve"]
