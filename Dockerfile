# localpipe as a container: a static binary on distroless, run as a non-root user, serving
# every service on 0.0.0.0:4566 with its data in the /data volume. See docker-compose.yml.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/localpipe/localpipe/internal/app.Version=${VERSION}" -o /out/localpipe ./cmd/localpipe \
 && mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/localpipe /localpipe
# A named volume mounted on /data starts as a copy of this directory, owner included, so
# the non-root user can write to it.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LOCALPIPE_LISTEN=0.0.0.0:4566 \
    LOCALPIPE_DATA_DIR=/data
VOLUME /data
EXPOSE 4566
# The image has no shell and no curl: the binary checks itself (GET /_localpipe/health).
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/localpipe", "health"]
ENTRYPOINT ["/localpipe"]
