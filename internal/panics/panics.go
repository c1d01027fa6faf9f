// Package panics turns a panic in one of the App's goroutines into an error
// of the event it belongs to: logged with its stack, counted, and returned,
// so that one bad event fails alone instead of ending the process and every
// event in flight with it.
package panics

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/fluxrollback/flux-rollback/internal/logkey"
)

var recovered atomic.Int64

// Count is how many panics have been recovered since the process started.
func Count() int64 { return recovered.Load() }

// Error is a recovered panic.
type Error struct {
	// What was running: "handle push event", "read commit".
	What  string
	Value any
	Stack string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: panic: %v", e.What, e.Value) }

// Recover, deferred at the top of a goroutine or handler, turns a panic
// into *errp. It must be deferred itself (defer panics.Recover(ctx, what,
// &err)), as recover works only there.
func Recover(ctx context.Context, what string, errp *error) {
	r := recover()
	if r == nil {
		return
	}
	recovered.Add(1)
	e := &Error{What: what, Value: r, Stack: string(debug.Stack())}
	zerolog.Ctx(ctx).Error().Str(logkey.Stack, e.Stack).Str(logkey.Panic, fmt.Sprint(r)).Msg(what + " panicked")
	if errp != nil {
		*errp = e
	}
}

// Go runs f in a new goroutine that recovers, and returns a channel that
// receives f's error, or the panic as an *Error, then closes.
func Go(ctx context.Context, what string, f func() error) <-chan error {
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() { done <- err; close(done) }()
		defer Recover(ctx, what, &err)
		err = f()
	}()
	return done
}
