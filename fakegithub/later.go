package fakegithub

func (g *GitHub) laterRoutes() []*route           { return nil }
func (g *GitHub) listDeliveries(c *call)          { c.notFound() }
func (g *GitHub) getDelivery(c *call)             { c.notFound() }
func (g *GitHub) redeliver(c *call)               { c.notFound() }
func (r *Repo) commentCountLocked(sha string) int { return 0 }

type issue struct{}
type label struct{}
type issueComment struct{}
type commitComment struct{}
type reaction struct{}
type checkSuite struct{}
type checkRun struct{}
type webhookTarget struct{}
type Delivery struct{}
