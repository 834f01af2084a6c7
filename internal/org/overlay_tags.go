package org

import (
	"encoding/json"
	"maps"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// applyTags records a successful Organizations TagResource (requestParameters.resourceId and
// tags[{key,value}]) or UntagResource (tagKeys).
func (o *Overlay) applyTags(ev *cloudtrail.Event) {
	id := ev.Param("resourceId")
	if id == "" {
		return
	}
	if o.tags == nil {
		o.tags = map[string]map[string]*string{}
	}
	set := o.tags[id]
	if set == nil {
		set = map[string]*string{}
		o.tags[id] = set
	}
	if ev.EventName == "UntagResource" {
		var keys []string
		if json.Unmarshal(ev.RequestParameters["tagKeys"], &keys) == nil {
			for _, k := range keys {
				set[k] = nil
			}
		}
		return
	}
	var tags []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if json.Unmarshal(ev.RequestParameters["tags"], &tags) == nil {
		for _, t := range tags {
			v := t.Value
			set[t.Key] = &v
		}
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
