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
// What each change (org.ChangeOf) drops is in invalidators; a root credential change (IAM keys,
// password, MFA or certificates of the root user, a completed password recovery) drops the
// account's root state.
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
	f.email = nil
	if ev.Failed() {
		return
	}
	if c := org.ChangeOf(ev); c.Kind != org.NoChange {
		if drop := invalidators[c.Kind]; drop != nil {
			drop(f, c, ev)
		}
		return
	}
	switch ev.EventSource {
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

// invalidators are what each kind of organization change drops from the cache (called with f.mu
// held). A kind without one (a created policy: nothing was cached about it) drops nothing, and
// the functions need not take its events (route.FactChangePatterns).
var invalidators = map[org.ChangeKind]func(f *Facts, c org.Change, ev *cloudtrail.Event){
	// The target's attachments.
	org.PolicyAttached: dropAttachments,
	org.PolicyDetached: dropAttachments,
	// The policy keeps answering its recorded state while the event is evaluated (pin).
	org.PolicyUpdated: func(f *Facts, c org.Change, ev *cloudtrail.Event) {
		ch := &policyChange{eventID: ev.ID(), content: c.Content}
		if c.Name != "" {
			ch.name = &c.Name
		}
		f.pin(c.Policy, ch)
	},
	org.PolicyDeleted: func(f *Facts, c org.Change, ev *cloudtrail.Event) {
		f.pin(c.Policy, &policyChange{deleted: true, eventID: ev.ID()})
	},
	// The organization (the SCP policy type state) and every attachment.
	org.PolicyTypeEnabled:  dropPolicyType,
	org.PolicyTypeDisabled: dropPolicyType,
	// The account's parents, re-seeded from the destination when its chain is known (the old
	// and new parents' own facts do not change).
	org.AccountMoved: func(f *Facts, c org.Change, _ *cloudtrail.Event) { f.moved(c.Account, c.Destination) },
	// Everything about the account.
	org.AccountJoined: dropAccount,
	org.AccountLeft:   dropAccount,
	org.AccountClosed: dropAccount,
	// The OU's parents, attachments and tags.
	org.OUDeleted: func(f *Facts, c org.Change, _ *cloudtrail.Event) {
		delete(f.cache, keyParents(c.OU))
		delete(f.cache, keyAttached(c.OU))
		delete(f.cache, keyTags(c.OU))
	},
	// The resource's tags.
	org.ResourceTagged:   dropTags,
	org.ResourceUntagged: dropTags,
	// The account's email and recorded ownership; the change is noted for the event's evaluation.
	org.RootEmailChanged: func(f *Facts, c org.Change, ev *cloudtrail.Event) { f.noteEmailChange(c.Email, ev) },
}

func dropAttachments(f *Facts, c org.Change, _ *cloudtrail.Event) {
	delete(f.cache, keyAttached(c.Target))
}
func dropTags(f *Facts, c org.Change, _ *cloudtrail.Event)    { delete(f.cache, keyTags(c.Resource)) }
func dropAccount(f *Facts, c org.Change, _ *cloudtrail.Event) { f.dropAccount(c.Account) }

func dropPolicyType(f *Facts, c org.Change, _ *cloudtrail.Event) {
	if c.PolicyType == "" || c.PolicyType == org.PolicyTypeSCP {
		delete(f.cache, keyOrganization)
		f.dropPrefix(keyAttached(""))
	}
}

// Invalidates reports whether Invalidate drops cached facts on a change of this kind: the
// functions that cache organization facts must take the events that make it.
func Invalidates(k org.ChangeKind) bool { return invalidators[k] != nil }

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
