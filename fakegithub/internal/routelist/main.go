// Command routelist prints the REST routes the fake GitHub serves, one
// "METHOD /path/{template}" per line, for scripts/extract-openapi-routes.sh.
package main

import (
	"fmt"

	"github.com/fluxrollback/flux-rollback/fakegithub"
)

func main() {
	for _, r := range fakegithub.Routes() {
		fmt.Println(r)
	}
}
