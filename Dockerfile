# One image for both binaries: the manager (/manager) and the callback
# sidecar (/callback), as config/manager and config/callback run them.
# Build: make docker-build IMG=<registry>/mcp-operator:<tag>
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
COPY pkg/ pkg/
COPY webhooks/ webhooks/
ARG VERSION=devel
RUN ldflags="-X github.com/mcp-operator/mcp-operator/internal/version.Version=${VERSION}" && \
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o /out/manager ./cmd/manager && \
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o /out/callback ./cmd/callback

FROM gcr.io/distroless/static:nonroot
ARG VERSION=devel
LABEL org.opencontainers.image.title="mcp-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.description="Kubernetes operator for remote MCP servers: the manager (/manager) and the callback server (/callback)"
COPY --from=build /out/manager /out/callback /
USER 65532:65532
ENTRYPOINT ["/manager"]
