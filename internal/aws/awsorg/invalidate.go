package awsorg

import (
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/org"
)

// rootCredentialEvents change the root user's credential state (when made for the root user
// itself: no userName in the request).
var rootCredentialEvents = []string{
	"CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey",
	"CreateLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
	"EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice", "ResyncMFADevice",
	"UploadSigningCertificate", "DeleteSigningCertificate", "UpdateSigningCertificate",
}

// Invalidate drops the cached facts an event changes. Call it with every event BEFORE evaluating
// it: structure facts (parents, attachments, the SCP policy type state, tags, root credential
// state) are then read afresh, while a policy the event updates or deletes keeps answering its
// state before the event until the next call (see View.Policy), which then records the event's
// change. A failed call changed nothing and drops nothing. Calling it twice with the same event
// is harmless.
//
// What each event drops: AttachPolicy/DetachPolicy the target's attachments;
// Enable/DisablePolicyType the organization (SCP state) and every attachment; MoveAccount the
// account's parents (re-seeded from the destination when its chain is known; the old and new
// parents' own facts do not change); Remove/LeaveOrganization, CloseAccount, AcceptHandshake
// and Control Tower CreateManagedAccount the account's facts; DeleteOrganizationalUnit the OU's;
// TagResource/UntagResource the resource's tags; a root credential change (IAM keys, password,
// MFA or certificates of the root user, a completed password recovery) the account's root state.
func (f *Facts) Invalidate(ev *cloudtrail.Event) {
	if ev == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id := ev.ID(); id != "" {
		if id == f.last {
			return
		}
		f.last = id
	}
	f.applyChanges()
	f.noteEmailChange(ev)
	if ev.Failed() {
		return
	}
	p := ev.Param
	switch ev.EventSource {
	case cloudtrail.SourceOrganizations:
		switch ev.EventName {
		case "AttachPolicy", "DetachPolicy":
			delete(f.cache, keyAttached(p("targetId")))
		case "UpdatePolicy":
			ch := &policyChange{eventID: ev.ID()}
			if v := p("name"); v != "" {
				ch.name = &v
			}
			if ev.HasParam("content") {
				v := p("content")
				ch.content = &v
			}
			f.pin(p("policyId"), ch)
		case "DeletePolicy":
			f.pin(p("policyId"), &policyChange{deleted: true, eventID: ev.ID()})
		case "EnablePolicyType", "DisablePolicyType":
			if pt := p("policyType"); pt == "" || pt == org.PolicyTypeSCP {
				delete(f.cache, keyOrganization)
				f.dropPrefix(keyAttached(""))
			}
		case "MoveAccount":
			f.moved(p("accountId"), p("destinationParentId"))
		case "RemoveAccountFromOrganization", "CloseAccount":
			f.dropAccount(p("accountId"))
		case "LeaveOrganization", "AcceptHandshake":
			f.dropAccount(ev.AccountID())
		case "DeleteOrganizationalUnit":
			id := p("organizationalUnitId")
			delete(f.cache, keyParents(id))
			delete(f.cache, keyAttached(id))
			delete(f.cache, keyTags(id))
		case "TagResource", "UntagResource":
			delete(f.cache, keyTags(p("resourceId")))
		}
	case cloudtrail.SourceControlTower:
		if ev.EventName == "CreateManagedAccount" && ev.ServiceEventDetails != nil {
			if d := ev.ServiceEventDetails.CreateManagedAccountStatus; d != nil && d.Account != nil {
				f.dropAccount(d.Account.ID)
			}
		}
	case cloudtrail.SourceIAM:
		if (ev.IsRoot() || ev.AssumedRoot()) && !ev.HasParam("userName") && slices.Contains(rootCredentialEvents, ev.EventName) {
			delete(f.cache, keyRoot(ev.AccountID()))
		}
	case cloudtrail.SourceSignIn:
		if ev.EventName == "PasswordRecoveryCompleted" || ev.EventName == "PasswordUpdated" {
			delete(f.cache, keyRoot(ev.AccountID()))
		}
	}
}

// pin keeps a policy's recorded state as the answer while the event that changed it is
// evaluated. Called with f.mu held.
func (f *Facts) pin(id string, ch *policyChange) {
	if id == "" {
		return
	}
	rec := f.policies[id]
	if rec == nil {
		rec = &policyRec{}
		f.policies[id] = rec
	}
	rec.change = ch
}

// applyChanges records the changes of the previously evaluated event. Called with f.mu held.
func (f *Facts) applyChanges() {
	for id, rec := range f.policies {
		ch := rec.change
		if ch == nil {
			continue
		}
		rec.change = nil
		switch {
		case ch.deleted:
			if !rec.known {
				delete(f.policies, id)
				continue
			}
			rec.deleted = true
		case !rec.known:
			// Never recorded: the next read describes the policy as the event left it.
			delete(f.policies, id)
		default:
			if ch.name != nil {
				rec.p.Name = *ch.name
			}
			if ch.content != nil {
				c := *ch.content
				rec.p.Content, rec.full = &c, true
			}
			rec.at = f.cfg.Now()
		}
	}
}

// moved re-seeds a moved account's parents from its destination. Called with f.mu held.
func (f *Facts) moved(account, dest string) {
	delete(f.cache, keyParents(account))
	var chain []string
	switch org.TargetKind(dest) {
	case "root":
		chain = []string{dest}
	case "ou":
		if e, ok := f.cache[keyParents(dest)]; ok && f.fresh(e.at) {
			chain = append([]string{dest}, e.v.([]string)...)
		}
	}
	e, ok := f.cache[keyAccount(account)]
	if chain == nil {
		delete(f.cache, keyAccount(account))
		return
	}
	f.putLocked(keyParents(account), chain)
	if ok {
		a := e.v.(org.Account)
		a.ParentID = dest
		f.cache[keyAccount(account)] = entry{v: a, at: e.at}
	}
}

// dropAccount forgets everything about an account. Called with f.mu held.
func (f *Facts) dropAccount(id string) {
	for _, k := range []string{keyAccount(id), keyParents(id), keyAttached(id), keyTags(id), keyRoot(id)} {
		delete(f.cache, k)
	}
}

// dropPrefix forgets every entry whose key starts with prefix. Called with f.mu held.
func (f *Facts) dropPrefix(prefix string) {
	for k := range f.cache {
		if strings.HasPrefix(k, prefix) {
			delete(f.cache, k)
		}
	}
}
