# syntax=docker/dockerfile:1

# Build stage: a static binary, no cgo, stripped, with the version stamped.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/flux-rollback .

# Runtime: distroless static (CA certificates and tzdata, no shell), as the
# unprivileged nonroot user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flux-rollback /flux-rollback
USER nonroot:nonroot
# Mount the configuration at /etc/flux-rollback/config.yml and the private key
# as a file, named by github.private_key_file in the configuration or by
# FLUXROLLBACK_PRIVATE_KEY_FILE (e.g. /etc/flux-rollback/private-key.pem).
EXPOSE 8080
ENTRYPOINT ["/flux-rollback", "serve", "--config", "/etc/flux-rollback/config.yml"]
