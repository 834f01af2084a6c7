package cloudtrail_test

import (
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/routing"
)

// The prefilter tests run against the real routing table, derived from the rule catalogue.
func init() { cloudtrail.UseRoutingTable(routing.Patterns()) }
