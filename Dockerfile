# syntax=docker/dockerfile:1

# Base images are pinned by digest (the tag stays for people to read), so a
# rebuild of an old commit uses the same bases. docs/operations.md says where
# the digests come from and how to refresh them.

# Build stage: a static binary, no cgo, with the version and commit stamped.
# The Go version is go.mod's, so no toolchain is downloaded.
FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/flux-rollback .

# Runtime: distroless static (CA certificates and tzdata, no shell), as the
# unprivileged nonroot user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.title="flux-rollback" \
      org.opencontainers.image.description="GitHub App: one-click rollback pull requests for Flux CD image releases" \
      org.opencontainers.image.source="https://github.com/fluxrollback/flux-rollback" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"
COPY --from=build /out/flux-rollback /flux-rollback
COPY LICENSE NOTICE /licenses/
USER nonroot:nonroot
EXPOSE 8080
# The configuration is the environment (FLUXROLLBACK_*, GITHUB_*) over the
# defaults, and /etc/flux-rollback/config.yml under both when it is mounted.
ENTRYPOINT ["/flux-rollback", "serve"]
