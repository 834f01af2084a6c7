package render

import (
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

// typeRootUsage is the ASFF type of the root rules in the fixtures.
const typeRootUsage = "Unusual Behaviors/User/Root Credential Usage"

// testNow is the clock of the tests.
var testNow = time.Date(2024, 5, 2, 8, 30, 0, 0, time.UTC)

// testASFFContext is the ASFF context of the tests.
var testASFFContext = ASFFContext{Region: "us-east-1", CallingAccountID: "999988887777", Now: testNow}

// hostile is event text that tries every trick: chat links, images and mentions, HTML, ANSI
// colour, an OSC 8 hyperlink, CR/LF, NUL, a bidi override, non-ASCII and emoji.
const hostile = "[click](https://evil.example) ![img](https://evil.example/x.png) @channel @here @everyone " +
	"<!here> <!channel> <@U123> <#C123> <https://evil.example|your bank> <script>alert(1)</script> &lt;b&gt; " +
	"`code` ```block``` *bold* _italic_ ~strike~ # heading \x1b[31mRED\x1b[0m " +
	"\x1b]8;;https://evil.example\x07hyperlink\x1b]8;;\x07 line1\r\nline2\x00NUL\ttab \u202eevil\u202c " +
	"Zürich Ærøskøbing 東京 🚀👩‍💻"

// testFindings is the fixed set the golden files are made of: one finding per severity and a
// hostile one.
func testFindings() []finding.Finding {
	long := strings.Repeat("Root activity "+hostile+" ", 40)
	long = string([]rune(long)[:5000])
	return []finding.Finding{
		{
			ID: finding.ID("ROOT-SIGNIN-STAX-MEMBER", "e0176723-ea76-4275-83a3-000000000001"), Rule: "ROOT-SIGNIN-STAX-MEMBER", Types: []string{typeRootUsage},
			Severity: finding.Critical, AccountID: "222222222222", AccountName: "web",
			Ownership: finding.StaxOwned, AccountRole: finding.Member,
			Title:       "Root signed in to Stax-owned member account 222222222222 (web)",
			Description: "The root user of 222222222222 (web) signed in to the console from 192.0.2.10 (MFA used: No). Stax-owned member accounts have no stored root credentials under Stax's root MFA policy, so the password recovery flow was used to get in.",
			Remediation: "Confirm with Stax support that the sign-in was an approved root task.\nIf it was not, treat the account as compromised: reset the root password and review CloudTrail for the session.",
			EventID:     "e0176723-ea76-4275-83a3-000000000001", EventName: "ConsoleLogin", EventTime: "2024-05-01T12:00:00Z",
			Region: "us-east-1", Actor: "arn:aws:iam::222222222222:root", SourceIP: "192.0.2.10",
			References: []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"},
		},
		{
			ID: finding.ID("ROOT-ACTIVITY", "333333333333", "ASIAEXAMPLE"), Rule: "ROOT-ACTIVITY", Types: []string{typeRootUsage},
			Severity: finding.High, AccountID: "333333333333", AccountName: "data-lake",
			Ownership: finding.CustomerOwned, AccountRole: finding.Member,
			Title:       "Root API activity in customer-owned member account 333333333333 (data-lake)",
			Description: "Root credentials made 2 API calls in 333333333333 (data-lake). The account is customer-owned: the customer must confirm the activity.",
			Remediation: "Ask the account owner to confirm the root session and to remove unneeded root credentials.",
			EventID:     "e0176723-ea76-4275-83a3-000000000002", EventName: "CreateAccessKey", EventTime: "2024-05-01T13:05:10Z",
			Region: "us-east-1", Actor: "arn:aws:iam::333333333333:root", SourceIP: "198.51.100.7",
			Calls: []string{"iam:CreateAccessKey", "s3:ListBuckets"},
		},
		{
			ID: finding.ID("ROOT-SIGNIN", "e0176723-ea76-4275-83a3-000000000003"), Rule: "ROOT-SIGNIN", Types: []string{typeRootUsage},
			Severity: finding.Medium, AccountID: "111111111111", AccountName: "management",
			Ownership: finding.StaxOwned, AccountRole: finding.Management,
			Title:       "Root signed in with MFA to the management account 111111111111 (management)",
			Description: "The root user of the management account signed in with MFA from 192.0.2.44. It is legitimate but rare.",
			Remediation: "Confirm that the sign-in was expected.",
			EventID:     "e0176723-ea76-4275-83a3-000000000003", EventName: "ConsoleLogin", EventTime: "2024-05-01T14:00:00Z",
			Region: "us-east-1", Actor: "arn:aws:iam::111111111111:root", SourceIP: "192.0.2.44",
		},
		{
			ID: finding.ID("ONBOARD-FAILED", "car-examplecreateaccountrequestid111"), Rule: "ONBOARD-FAILED", Types: []string{typeBestPractices + "Account Onboarding Failure"},
			Severity: finding.Low, AccountID: "111111111111", AccountName: "management",
			Ownership: finding.StaxOwned, AccountRole: finding.Management,
			Title:       "Account creation failed: EMAIL_ALREADY_EXISTS",
			Description: "An account creation request failed with reason EMAIL_ALREADY_EXISTS.",
			Remediation: "Retry the account creation with a unique root email.",
			EventID:     "e0176723-ea76-4275-83a3-000000000004", EventName: "CreateAccountResult", EventTime: "Sep 16, 2020 9:20:50 PM",
			Region: "us-east-1", Actor: "organizations.amazonaws.com",
		},
		{
			ID: finding.ID("SCP-DETACHED", "e0176723-ea76-4275-83a3-000000000005"), Rule: "SCP-DETACHED", Types: []string{"TTPs/Defense Evasion/Protection SCP Weakened", "Software and Configuration Checks/AWS Security Best Practices/Protection SCP"},
			Severity: finding.Informational, AccountID: "111111111111", AccountName: "management",
			Ownership: finding.StaxOwned, AccountRole: finding.Management,
			Title:       "Protection SCP Stax-Protection detached from r-ab12 under an approved exception",
			Description: "Stax-Protection (p-abcd1234) was detached from the organization root by arn:aws:sts::111111111111:assumed-role/StaxAutomation/guardrails.",
			Remediation: "Make sure the protection is re-attached before the exception expires.",
			EventID:     "e0176723-ea76-4275-83a3-000000000005", EventName: "DetachPolicy", EventTime: "2024-05-01T15:00:00Z",
			Region: "us-east-1", Actor: "arn:aws:sts::111111111111:assumed-role/StaxAutomation/guardrails", SourceIP: "stax.amazonaws.com",
			Resources: []string{"p-abcd1234", "r-ab12"}, Exception: "CHG-1234",
		},
		{
			ID: finding.ID("ROOT-UNRESTRICTED-ACTION", "444455556666", "ASIAHOSTILE"), Rule: "ROOT-UNRESTRICTED-ACTION", Types: []string{typeRootUsage},
			Severity: finding.High, AccountID: "444455556666", AccountName: "Prod " + hostile,
			Ownership: finding.Unknown, AccountRole: finding.Member,
			Title:       "Root API call with user agent " + hostile,
			Description: long,
			Remediation: "Investigate " + hostile + "\nThen rotate: `aws iam delete-access-key` <@U999>",
			EventID:     "e0176723-ea76-4275-83a3-000000000006", EventName: "PutBucketPolicy\x1b[2J", EventTime: "2024-05-01T12:00:00.123+02:00",
			Region: "eu-west-1", Actor: "arn:aws:iam::444455556666:root" + hostile, SourceIP: "203.0.113.9\u202e1.2.3.4",
			Calls:      []string{"s3:PutBucketPolicy", hostile},
			Resources:  []string{"arn:aws:s3:::bucket", hostile},
			References: []string{"javascript:alert(1)", "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"},
		},
	}
}
