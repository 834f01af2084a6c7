package org

import "maps"

// applyTags records a TagResource (tags set) or UntagResource (keys removed).
func (o *Overlay) applyTags(c Change) {
	if c.Resource == "" {
		return
	}
	if o.tags == nil {
		o.tags = map[string]map[string]*string{}
	}
	set := o.tags[c.Resource]
	if set == nil {
		set = map[string]*string{}
		o.tags[c.Resource] = set
	}
	for _, k := range c.TagKeys {
		set[k] = nil
	}
	for _, t := range c.Tags {
		v := t.Value
		set[t.Key] = &v
	}
}

// withTags returns base with the tag changes the events made to id (base itself when none).
func (o *Overlay) withTags(id string, base map[string]string) map[string]string {
	set := o.tags[id]
	if len(set) == 0 {
		return base
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}
