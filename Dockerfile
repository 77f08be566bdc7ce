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
RUN CGO_ENABLED=0 go build -trimpath -o /out/manager ./cmd/manager && \
    CGO_ENABLED=0 go build -trimpath -o /out/callback ./cmd/callback

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/manager /out/callback /
USER 65532:65532
ENTRYPOINT ["/manager"]
