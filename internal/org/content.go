package org

// ContentReader is implemented by facts whose Policy may answer a policy known only from a
// listing, without its content (the live facts): PolicyContent reads the content as well.
type ContentReader interface {
	// PolicyContent returns the policy with its content (nil Content only when it cannot be read).
	PolicyContent(id string) (Policy, error)
}

// PolicyWithContent returns a policy with its content when the facts can read it: through
// ContentReader when they implement it, else Policy.
func PolicyWithContent(f Facts, id string) (Policy, error) {
	if cr, ok := f.(ContentReader); ok {
		return cr.PolicyContent(id)
	}
	return f.Policy(id)
}

// PolicyContent implements ContentReader: the overlay's own record of a policy, else the base's
// (with its content when the base can read it).
func (o *Overlay) PolicyContent(id string) (Policy, error) {
	if p, ok := o.policies[id]; ok {
		return p, nil
	}
	return PolicyWithContent(o.base, id)
}
