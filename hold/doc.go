// Package hold holds Flux's image automation for the lines a rollback sets
// back, and undoes the hold, as pure functions over a YAML file's bytes.
//
// For Flux v2 it turns image policy markers into held markers that the
// image-automation-controller ignores and that record what is needed to put
// the original back byte for byte (Hold, FindHeld, Resume); Markers finds
// the markers the controller acts on, by the controller's own rule. For
// Flux v1 it adds and removes the lock annotations `fluxctl lock` writes
// (LockV1, LockedV1, UnlockV1). docs/holds.md describes the formats and
// cites the Flux source they rely on.
package hold
