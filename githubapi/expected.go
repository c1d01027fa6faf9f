package githubapi

import "context"

type expectedNotFoundKey struct{}

// ExpectNotFound marks the GitHub requests made with ctx as probes for which
// 404 Not Found is an ordinary answer (a repository without a configuration
// file, a rollback branch not made yet), so that the request metrics do not
// count those answers as failed requests.
func ExpectNotFound(ctx context.Context) context.Context {
	return context.WithValue(ctx, expectedNotFoundKey{}, true)
}

// NotFoundExpected reports whether ctx was marked by ExpectNotFound.
func NotFoundExpected(ctx context.Context) bool {
	v, _ := ctx.Value(expectedNotFoundKey{}).(bool)
	return v
}
