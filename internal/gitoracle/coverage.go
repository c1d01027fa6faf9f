package gitoracle

import "fmt"

// UnexercisedOutcomes lists, one message each, the outcomes that fewer than
// minimum cases of a property test reached: agreement with git means little
// where git's clean reverts, conflicts or empty reverts were never tried.
func UnexercisedOutcomes(total map[Outcome]int, minimum int) []string {
	var missing []string
	for _, o := range []Outcome{Clean, Conflict, NothingToCommit} {
		if total[o] < minimum {
			missing = append(missing, fmt.Sprintf("only %d cases where git's outcome is %v: the histories do not exercise it", total[o], o))
		}
	}
	return missing
}
