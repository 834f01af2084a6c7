package awsorg

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rootguard/rootguard/internal/org"
)

const (
	svcSTS = "sts"
	svcIAM = "iam"
)

// sessionSeconds is the life of the sessions rootguard opens (AssumeRoot's maximum).
const sessionSeconds = 900

// sessionMargin: a cached session is not reused in its last minute.
const sessionMargin = time.Minute

// deniedCodes are the answers that mean "not allowed" rather than "failed".
var deniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId", "RegionDisabledException"}

type session struct {
	creds   aws.CredentialsProvider
	expires time.Time
}

// RootCredentials implements org.Facts: the root user's credential state, read inside the
// account. The account the function runs in is read with its own credentials (IAM
// GetAccountSummary); any other account through Config.Mode. A field that could not be read is
// nil; an account whose state cannot be read at all is an error wrapping ErrUnreadable.
func (v *View) RootCredentials(accountID string) (*org.RootCredentials, error) {
	if _, err := v.Account(accountID); err != nil {
		return nil, err
	}
	if x, ok := v.f.get(keyRoot(accountID)); ok {
		return cloneCreds(x.(*org.RootCredentials)), nil
	}
	rc, err := v.readRoot(accountID)
	if err != nil {
		return nil, fmt.Errorf("root credentials of %s: %w", accountID, err)
	}
	v.f.put(keyRoot(accountID), cloneCreds(rc))
	return rc, nil
}

func (v *View) readRoot(accountID string) (*org.RootCredentials, error) {
	self, err := v.selfAccount()
	if err != nil {
		return nil, err
	}
	if accountID == self {
		return v.summary(nil)
	}
	switch v.f.cfg.Mode {
	case ModeAuditRole:
		s, err := v.roleSession(accountID)
		if err != nil {
			return nil, err
		}
		return v.summary(s)
	case ModeAssumeRoot:
		o, err := v.Organization()
		if err != nil {
			return nil, err
		}
		if accountID == o.ManagementAccountID {
			if v.f.cfg.RoleName == "" {
				return nil, fmt.Errorf("%w: sts:AssumeRoot cannot target the management account and no audit role is configured (ROOTGUARD_AUDIT_ROLE_NAME)", ErrUnreadable)
			}
			s, err := v.roleSession(accountID)
			if err != nil {
				return nil, err
			}
			return v.summary(s)
		}
		s, err := v.rootSession(accountID)
		if err != nil {
			return nil, err
		}
		return v.rootUser(s)
	}
	return nil, fmt.Errorf("%w: unknown mode %q", ErrUnreadable, v.f.cfg.Mode)
}

// selfAccount is the account the function runs in (Config.AccountID, else STS, asked once).
func (v *View) selfAccount() (string, error) {
	v.f.mu.Lock()
	self := v.f.self
	v.f.mu.Unlock()
	if self != "" {
		return self, nil
	}
	out, err := v.f.clients.STS.GetCallerIdentity(v.ctx, &sts.GetCallerIdentityInput{})
	v.count(svcSTS, "GetCallerIdentity", err)
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	self = aws.ToString(out.Account)
	v.f.mu.Lock()
	v.f.self = self
	v.f.mu.Unlock()
	return self, nil
}

// cachedSession returns a session still good for more than sessionMargin.
func (v *View) cachedSession(key string) (aws.CredentialsProvider, bool) {
	v.f.mu.Lock()
	defer v.f.mu.Unlock()
	e, ok := v.f.cache[key]
	if !ok {
		return nil, false
	}
	s := e.v.(session)
	if v.f.cfg.Now().Add(sessionMargin).After(s.expires) {
		return nil, false
	}
	return s.creds, true
}

func (v *View) keepSession(key string, c *ststypes.Credentials) aws.CredentialsProvider {
	p := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	// The session's remaining life, as STS reports it, on the facts' clock.
	life := sessionSeconds * time.Second
	if c.Expiration != nil {
		life = min(life, time.Until(*c.Expiration))
	}
	exp := v.f.cfg.Now().Add(life)
	v.f.mu.Lock()
	v.f.cache[key] = entry{v: session{creds: p, expires: exp}, at: v.f.cfg.Now()}
	v.f.mu.Unlock()
	return p
}

// roleSession assumes the audit role in the account.
func (v *View) roleSession(accountID string) (aws.CredentialsProvider, error) {
	key := keySession(accountID) + "/role"
	if p, ok := v.cachedSession(key); ok {
		return p, nil
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", v.f.cfg.Partition, accountID, strings.TrimPrefix(v.f.cfg.RoleName, "/"))
	out, err := v.f.clients.STS.AssumeRole(v.ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(arn),
		RoleSessionName: aws.String("rootguard"),
		DurationSeconds: aws.Int32(sessionSeconds),
	})
	v.count(svcSTS, "AssumeRole", err)
	if err != nil {
		if isCode(err, deniedCodes...) {
			return nil, fmt.Errorf("%w: assume role %s: %w", ErrUnreadable, arn, err)
		}
		return nil, fmt.Errorf("assume role %s: %w", arn, err)
	}
	return v.keepSession(key, out.Credentials), nil
}

// rootSession opens a centralised root session with the audit task policy.
func (v *View) rootSession(accountID string) (aws.CredentialsProvider, error) {
	key := keySession(accountID) + "/root"
	if p, ok := v.cachedSession(key); ok {
		return p, nil
	}
	task := strings.Replace(AuditTaskPolicy, "arn:aws:", "arn:"+v.f.cfg.Partition+":", 1)
	out, err := v.f.clients.STS.AssumeRoot(v.ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(accountID),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(task)},
		DurationSeconds: aws.Int32(sessionSeconds),
	})
	v.count(svcSTS, "AssumeRoot", err)
	if err != nil {
		if isCode(err, deniedCodes...) {
			return nil, fmt.Errorf("%w: assume root in %s: %w", ErrUnreadable, accountID, err)
		}
		return nil, fmt.Errorf("assume root in %s: %w", accountID, err)
	}
	return v.keepSession(key, out.Credentials), nil
}

// with makes an IAM call use the session's credentials (nil: the function's own).
func with(creds aws.CredentialsProvider) []func(*iam.Options) {
	if creds == nil {
		return nil
	}
	return []func(*iam.Options){func(o *iam.Options) { o.Credentials = creds }}
}

// summary reads the root flags of IAM GetAccountSummary; a key the summary lacks is unknown.
func (v *View) summary(creds aws.CredentialsProvider) (*org.RootCredentials, error) {
	out, err := v.f.clients.IAM.GetAccountSummary(v.ctx, &iam.GetAccountSummaryInput{}, with(creds)...)
	v.count(svcIAM, "GetAccountSummary", err)
	if err != nil {
		if isCode(err, deniedCodes...) {
			return nil, fmt.Errorf("%w: get account summary: %w", ErrUnreadable, err)
		}
		return nil, fmt.Errorf("get account summary: %w", err)
	}
	flag := func(key string) *bool {
		n, ok := out.SummaryMap[key]
		if !ok {
			return nil
		}
		b := n != 0
		return &b
	}
	return &org.RootCredentials{
		MFAEnabled:                 flag("AccountMFAEnabled"),
		PasswordPresent:            flag("AccountPasswordPresent"),
		AccessKeysPresent:          flag("AccountAccessKeysPresent"),
		SigningCertificatesPresent: flag("AccountSigningCertificatesPresent"),
	}, nil
}

// rootUser reads the root user's credentials in a root session (no UserName: the root user).
// A read that is denied leaves its field unknown; all four denied is ErrUnreadable.
func (v *View) rootUser(creds aws.CredentialsProvider) (*org.RootCredentials, error) {
	opts := with(creds)
	rc := &org.RootCredentials{}
	denied := 0
	// settle turns one read's outcome into its field.
	settle := func(op string, dst **bool, present bool, err error) error {
		switch {
		case err == nil:
			*dst = &present
		case isCode(err, deniedCodes...):
			denied++
		default:
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	}

	_, err := v.f.clients.IAM.GetLoginProfile(v.ctx, &iam.GetLoginProfileInput{}, opts...)
	v.count(svcIAM, "GetLoginProfile", err)
	if isCode(err, "NoSuchEntity") {
		f := false
		rc.PasswordPresent = &f
	} else if err := settle("get login profile", &rc.PasswordPresent, true, err); err != nil {
		return nil, err
	}

	mfa, err := v.anyPage(func(marker *string) (bool, *string, bool, error) {
		out, err := v.f.clients.IAM.ListMFADevices(v.ctx, &iam.ListMFADevicesInput{Marker: marker}, opts...)
		v.count(svcIAM, "ListMFADevices", err)
		if err != nil {
			return false, nil, false, err
		}
		return len(out.MFADevices) > 0, out.Marker, out.IsTruncated, nil
	})
	if err := settle("list MFA devices", &rc.MFAEnabled, mfa, err); err != nil {
		return nil, err
	}

	keys, err := v.anyPage(func(marker *string) (bool, *string, bool, error) {
		out, err := v.f.clients.IAM.ListAccessKeys(v.ctx, &iam.ListAccessKeysInput{Marker: marker}, opts...)
		v.count(svcIAM, "ListAccessKeys", err)
		if err != nil {
			return false, nil, false, err
		}
		return len(out.AccessKeyMetadata) > 0, out.Marker, out.IsTruncated, nil
	})
	if err := settle("list access keys", &rc.AccessKeysPresent, keys, err); err != nil {
		return nil, err
	}

	certs, err := v.anyPage(func(marker *string) (bool, *string, bool, error) {
		out, err := v.f.clients.IAM.ListSigningCertificates(v.ctx, &iam.ListSigningCertificatesInput{Marker: marker}, opts...)
		v.count(svcIAM, "ListSigningCertificates", err)
		if err != nil {
			return false, nil, false, err
		}
		return len(out.Certificates) > 0, out.Marker, out.IsTruncated, nil
	})
	if err := settle("list signing certificates", &rc.SigningCertificatesPresent, certs, err); err != nil {
		return nil, err
	}
	if denied == 4 {
		return nil, fmt.Errorf("%w: every read of the root session was denied", ErrUnreadable)
	}
	return rc, nil
}

// anyPage pages an IAM list (Marker/IsTruncated) until an item is found or the list ends.
func (v *View) anyPage(page func(marker *string) (found bool, next *string, truncated bool, err error)) (bool, error) {
	var marker *string
	for range 100 {
		found, next, truncated, err := page(marker)
		if err != nil || found {
			return found, err
		}
		if !truncated || next == nil {
			return false, nil
		}
		marker = next
	}
	return false, errors.New("more than 100 pages")
}

func cloneCreds(rc *org.RootCredentials) *org.RootCredentials {
	if rc == nil {
		return nil
	}
	cp := func(p *bool) *bool {
		if p == nil {
			return nil
		}
		b := *p
		return &b
	}
	return &org.RootCredentials{MFAEnabled: cp(rc.MFAEnabled), PasswordPresent: cp(rc.PasswordPresent), AccessKeysPresent: cp(rc.AccessKeysPresent), SigningCertificatesPresent: cp(rc.SigningCertificatesPresent)}
}
