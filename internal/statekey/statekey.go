// Package statekey names the items of rootguard's state table. Every item id starts with one of
// these prefixes; the IAM policy of each function is limited to the prefixes it uses
// (dynamodb:LeadingKeys), so a prefix is the unit of least privilege on the table.
package statekey

const (
	// Finding starts a finding's delivery record (finding#<finding id>), kept by the notifier.
	Finding = "finding#"
	// Policy starts a policy record (policy#<policy id>): the last content seen of an SCP.
	Policy = "policy#"
	// Grant starts an exception grant (grant#<resource id>).
	Grant = "grant#"
	// Trust starts a trusted principal's suspension (trust#<principal ARN>).
	Trust = "trust#"
	// Owner starts an account's recorded ownership (owner#<account id>); ownership is sticky.
	Owner = "owner#"
	// Open starts an open finding (open#<key>), closed when its condition is resolved.
	Open = "open#"
	// Revert starts a resource's revert count (revert#<resource>), the loop guard of revert.
	Revert = "revert#"
)

// All is every prefix, in the order the README's "State kept in the state table" lists them.
var All = []string{Policy, Finding, Grant, Trust, Owner, Open, Revert}
