package replay

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// genVersion keys the benchmark cache: change it whenever the generator's output changes.
const genVersion = 3

// benchFile returns a gzipped CloudTrail log file of n generated records, made once and kept
// under os.TempDir().
func benchFile(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "rootguard-bench")
	path := filepath.Join(dir, fmt.Sprintf("cloudtrail-v%d-%d.json.gz", genVersion, n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp, err := os.CreateTemp(dir, "gen-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	if err := writeLogFile(tmp, n, 1); err != nil {
		tb.Fatalf("generate %s: %v", path, err)
	}
	if err := tmp.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %s in %v", path, time.Since(start).Round(time.Millisecond))
	return path
}

// writeLogFile writes {"Records":[...]} of n records, gzipped, from a seeded generator.
func writeLogFile(f *os.File, n int, seed uint64) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	z, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	g := newGenerator(seed)
	buf := []byte(`{"Records":[`)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = g.record(buf)
		if len(buf) > 256<<10 {
			if _, err := z.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}"...)
	if _, err := z.Write(buf); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// generator makes realistic CloudTrail records: the services and identities of a busy
// organization, with about 1.5% root events, 0.5% Organizations events and a few AssumeRoot.
type generator struct {
	rng  *rand.Rand
	time time.Time
}

func newGenerator(seed uint64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, 0x5eed)), time: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
}

var (
	genAccounts   = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"}
	genRegions    = []string{"us-east-1", "us-east-1", "eu-west-1", "eu-west-2", "ap-southeast-2", "us-west-2"}
	genRoles      = []string{"app-backend", "data-pipeline", "ci-deployer", "OrganizationAccountAccessRole", "AWSReservedSSO_AdministratorAccess_3f1c", "lambda-orders"}
	genUsers      = []string{"ci-bot", "terraform", "backup-agent"}
	genServices   = []string{"lambda.amazonaws.com", "ec2.amazonaws.com", "cloudformation.amazonaws.com", "autoscaling.amazonaws.com", "config.amazonaws.com"}
	genBuckets    = []string{"orders-archive", "web-assets", "cloudtrail-logs-org", "data-lake-raw", "terraform-state"}
	genTables     = []string{"orders", "sessions", "inventory"}
	genUserAgents = []string{
		"[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2]",
		"Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.131",
		"aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.cp",
		"aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	}
)

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) hex(b []byte, n int) []byte {
	const digits = "0123456789abcdef"
	for range n {
		b = append(b, digits[g.rng.IntN(16)])
	}
	return b
}

func (g *generator) upper(b []byte, n int) []byte {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	for range n {
		b = append(b, digits[g.rng.IntN(len(digits))])
	}
	return b
}

func (g *generator) base64(b []byte, n int) []byte {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for range n {
		b = append(b, digits[g.rng.IntN(len(digits))])
	}
	return b
}

func (g *generator) uuid(b []byte) []byte {
	b = g.hex(b, 8)
	b = append(b, '-')
	b = g.hex(b, 4)
	b = append(b, '-')
	b = g.hex(b, 4)
	b = append(b, '-')
	b = g.hex(b, 4)
	b = append(b, '-')
	return g.hex(b, 12)
}

func (g *generator) ip(b []byte) []byte {
	if g.rng.IntN(3) == 0 {
		return fmt.Appendf(b, "10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	}
	return fmt.Appendf(b, "%d.%d.%d.%d", 3+g.rng.IntN(50), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

// call is what one record says about the API call.
type call struct {
	source, name, host string
	readOnly, data     bool
	params, response   func(b []byte) []byte
	additional         func(b []byte) []byte
	resources          func(b []byte) []byte
}

// record appends one record.
func (g *generator) record(b []byte) []byte {
	g.time = g.time.Add(time.Duration(5+g.rng.IntN(20)) * time.Millisecond)
	account := g.pick(genAccounts)
	region := g.pick(genRegions)
	r := g.rng.IntN(10000)
	switch {
	case r < 150:
		return g.rootRecord(b, account)
	case r < 200:
		return g.orgRecord(b)
	case r < 202:
		return g.assumeRootRecord(b)
	}
	c := g.ordinaryCall(account, region)
	return g.write(b, account, region, g.identity(account), c, "AwsApiCall")
}

// write appends a record with the common CloudTrail members.
func (g *generator) write(b []byte, account, region string, identity func([]byte) []byte, c call, eventType string) []byte {
	b = append(b, `{"eventVersion":"1.09","userIdentity":`...)
	b = identity(b)
	b = append(b, `,"eventTime":"`...)
	b = g.time.AppendFormat(b, time.RFC3339)
	b = append(b, `","eventSource":"`...)
	b = append(b, c.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, c.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, region...)
	b = append(b, `","sourceIPAddress":"`...)
	b = g.ip(b)
	b = append(b, `","userAgent":"`...)
	b = append(b, g.pick(genUserAgents)...)
	b = append(b, `","requestParameters":`...)
	if c.params != nil {
		b = c.params(b)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"responseElements":`...)
	if c.response != nil {
		b = c.response(b)
	} else {
		b = append(b, "null"...)
	}
	if c.additional != nil {
		b = append(b, `,"additionalEventData":`...)
		b = c.additional(b)
	}
	b = append(b, `,"requestID":"`...)
	b = g.uuid(b)
	b = append(b, `","eventID":"`...)
	b = g.uuid(b)
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, c.readOnly)
	if c.resources != nil {
		b = append(b, `,"resources":`...)
		b = c.resources(b)
	}
	b = append(b, `,"eventType":"`...)
	b = append(b, eventType...)
	b = append(b, `","managementEvent":`...)
	b = strconv.AppendBool(b, !c.data)
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, account...)
	b = append(b, `","eventCategory":"`...)
	if c.data {
		b = append(b, "Data"...)
	} else {
		b = append(b, "Management"...)
	}
	b = append(b, `","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
	b = append(b, c.host...)
	b = append(b, `"}`...)
	if c.name == "ConsoleLogin" || g.rng.IntN(8) == 0 {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	return append(b, '}')
}

// identity returns an ordinary (non-root) identity writer.
func (g *generator) identity(account string) func([]byte) []byte {
	switch r := g.rng.IntN(100); {
	case r < 70:
		role := g.pick(genRoles)
		session := g.rng.IntN(1 << 30)
		return func(b []byte) []byte {
			roleID := g.upper(nil, 17)
			b = append(b, `{"type":"AssumedRole","principalId":"AROA`...)
			b = append(b, roleID...)
			b = fmt.Appendf(b, `:session-%d","arn":"arn:aws:sts::%s:assumed-role/%s/session-%d","accountId":"%s","accessKeyId":"ASIA`, session, account, role, session, account)
			b = g.upper(b, 16)
			b = fmt.Appendf(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA%s","arn":"arn:aws:iam::%s:role/%s","accountId":"%s","userName":"%s"},"webIdFederationData":{},"attributes":{"creationDate":"`, roleID, account, role, account, role)
			b = g.time.Add(-time.Duration(g.rng.IntN(3600))*time.Second).AppendFormat(b, time.RFC3339)
			b = append(b, `","mfaAuthenticated":"false"}`...)
			if g.rng.IntN(4) == 0 {
				b = append(b, `,"ec2RoleDelivery":"2.0"`...)
			}
			return append(b, "}}"...)
		}
	case r < 85:
		user := g.pick(genUsers)
		return func(b []byte) []byte {
			b = append(b, `{"type":"IAMUser","principalId":"AIDA`...)
			b = g.upper(b, 17)
			b = fmt.Appendf(b, `","arn":"arn:aws:iam::%s:user/%s","accountId":"%s","accessKeyId":"AKIA`, account, user, account)
			b = g.upper(b, 16)
			return fmt.Appendf(b, `","userName":"%s"}`, user)
		}
	default:
		svc := g.pick(genServices)
		return func(b []byte) []byte {
			return fmt.Appendf(b, `{"type":"AWSService","invokedBy":"%s"}`, svc)
		}
	}
}

// ordinaryCall is a call by an application, a pipeline or a person: the bulk of a trail.
func (g *generator) ordinaryCall(account, region string) call {
	switch r := g.rng.IntN(100); {
	case r < 30: // S3 data events
		bucket := g.pick(genBuckets)
		name := "GetObject"
		if g.rng.IntN(3) == 0 {
			name = "PutObject"
		}
		key := fmt.Sprintf("year=2024/month=05/day=01/part-%05d-%s.snappy.parquet", g.rng.IntN(100000), g.hex(nil, 16))
		return call{source: "s3.amazonaws.com", name: name, host: bucket + ".s3." + region + ".amazonaws.com", readOnly: name == "GetObject", data: true,
			params: func(b []byte) []byte {
				return fmt.Appendf(b, `{"bucketName":"%s","Host":"%s.s3.%s.amazonaws.com","key":"%s"}`, bucket, bucket, region, key)
			},
			response: func(b []byte) []byte {
				if name == "GetObject" {
					return append(b, "null"...)
				}
				b = append(b, `{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:`...)
				b = fmt.Appendf(b, `%s:%s:key/`, region, account)
				b = g.uuid(b)
				return append(b, `","x-amz-server-side-encryption-bucket-key-enabled":true}`...)
			},
			additional: func(b []byte) []byte {
				b = fmt.Appendf(b, `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":%d,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`, g.rng.IntN(4096))
				b = g.base64(b, 76)
				return fmt.Appendf(b, `","bytesTransferredOut":%d}`, g.rng.IntN(1<<20))
			},
			resources: func(b []byte) []byte {
				return fmt.Appendf(b, `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::%s/%s"},{"accountId":"%s","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::%s"}]`, bucket, key, account, bucket)
			}}
	case r < 45: // EC2 describes
		name := []string{"DescribeInstances", "DescribeVolumes", "DescribeSecurityGroups", "DescribeNetworkInterfaces", "DescribeSubnets"}[g.rng.IntN(5)]
		return call{source: "ec2.amazonaws.com", name: name, host: "ec2." + region + ".amazonaws.com", readOnly: true,
			params: func(b []byte) []byte {
				b = append(b, `{"maxResults":1000,"filterSet":{"items":[{"name":"tag:Environment","valueSet":{"items":[{"value":"production"}]}},{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"stopped"}]}}]},"instancesSet":{"items":[{"instanceId":"i-`...)
				b = g.hex(b, 17)
				return append(b, `"}]}}`...)
			}}
	case r < 60: // KMS
		name := "Decrypt"
		if g.rng.IntN(2) == 0 {
			name = "GenerateDataKey"
		}
		return call{source: "kms.amazonaws.com", name: name, host: "kms." + region + ".amazonaws.com", readOnly: name == "Decrypt",
			params: func(b []byte) []byte {
				if name == "Decrypt" {
					return fmt.Appendf(b, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"aws:lambda:FunctionArn":"arn:aws:lambda:%s:%s:function:orders-api"}}`, region, account)
				}
				return fmt.Appendf(b, `{"keyId":"arn:aws:kms:%s:%s:alias/aws/s3","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::%s"}}`, region, account, g.pick(genBuckets))
			},
			resources: func(b []byte) []byte {
				b = fmt.Appendf(b, `[{"accountId":"%s","type":"AWS::KMS::Key","ARN":"arn:aws:kms:%s:%s:key/`, account, region, account)
				b = g.uuid(b)
				return append(b, `"}]`...)
			}}
	case r < 72: // STS AssumeRole, with its large credentials response
		role := g.pick(genRoles)
		return call{source: "sts.amazonaws.com", name: "AssumeRole", host: "sts." + region + ".amazonaws.com",
			params: func(b []byte) []byte {
				return fmt.Appendf(b, `{"roleArn":"arn:aws:iam::%s:role/%s","roleSessionName":"session-%d","durationSeconds":3600}`, account, role, g.rng.IntN(1<<30))
			},
			response: func(b []byte) []byte {
				b = append(b, `{"credentials":{"accessKeyId":"ASIA`...)
				b = g.upper(b, 16)
				b = append(b, `","sessionToken":"IQoJb3JpZ2luX2VjE`...)
				b = g.base64(b, 420)
				b = append(b, `","expiration":"`...)
				b = g.time.Add(time.Hour).AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
				b = append(b, `"},"assumedRoleUser":{"assumedRoleId":"AROA`...)
				b = g.upper(b, 17)
				return fmt.Appendf(b, `:session","arn":"arn:aws:sts::%s:assumed-role/%s/session"}}`, account, role)
			},
			resources: func(b []byte) []byte {
				return fmt.Appendf(b, `[{"accountId":"%s","type":"AWS::IAM::Role","ARN":"arn:aws:iam::%s:role/%s"}]`, account, account, role)
			}}
	case r < 80: // Lambda data events
		return call{source: "lambda.amazonaws.com", name: "Invoke", host: "lambda." + region + ".amazonaws.com", data: true,
			params: func(b []byte) []byte {
				return fmt.Appendf(b, `{"functionName":"arn:aws:lambda:%s:%s:function:orders-api","invocationType":"RequestResponse","logType":"None","qualifier":"$LATEST"}`, region, account)
			},
			additional: func(b []byte) []byte {
				return fmt.Appendf(b, `{"functionVersion":"arn:aws:lambda:%s:%s:function:orders-api:$LATEST"}`, region, account)
			},
			resources: func(b []byte) []byte {
				return fmt.Appendf(b, `[{"accountId":"%s","type":"AWS::Lambda::Function","ARN":"arn:aws:lambda:%s:%s:function:orders-api"}]`, account, region, account)
			}}
	case r < 88: // DynamoDB
		table := g.pick(genTables)
		name := []string{"GetItem", "PutItem", "Query", "DescribeTable"}[g.rng.IntN(4)]
		return call{source: "dynamodb.amazonaws.com", name: name, host: "dynamodb." + region + ".amazonaws.com", readOnly: name != "PutItem", data: name != "DescribeTable",
			params: func(b []byte) []byte {
				b = fmt.Appendf(b, `{"tableName":"%s","key":{"pk":"ORDER#`, table)
				b = g.hex(b, 12)
				return append(b, `","sk":"METADATA"},"consistentRead":false,"returnConsumedCapacity":"TOTAL"}`...)
			},
			resources: func(b []byte) []byte {
				return fmt.Appendf(b, `[{"accountId":"%s","type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:%s:%s:table/%s"}]`, account, region, account, table)
			}}
	case r < 94: // CloudWatch Logs
		return call{source: "logs.amazonaws.com", name: "CreateLogStream", host: "logs." + region + ".amazonaws.com",
			params: func(b []byte) []byte {
				b = append(b, `{"logGroupName":"/aws/lambda/orders-api","logStreamName":"2024/05/01/[$LATEST]`...)
				b = g.hex(b, 32)
				return append(b, `"}`...)
			}}
	default: // IAM reads
		name := []string{"GetRole", "GetPolicy", "ListAttachedRolePolicies", "GetRolePolicy"}[g.rng.IntN(4)]
		role := g.pick(genRoles)
		return call{source: "iam.amazonaws.com", name: name, host: "iam.amazonaws.com", readOnly: true,
			params: func(b []byte) []byte {
				if name == "GetPolicy" {
					return fmt.Appendf(b, `{"policyArn":"arn:aws:iam::%s:policy/%s-policy"}`, account, role)
				}
				return fmt.Appendf(b, `{"roleName":"%s"}`, role)
			}}
	}
}

// rootRecord is a root user's event: IAM calls and read-only looks around, made in a few
// console sessions per account (so that they merge into few findings, as in real trails), and
// now and then a console sign-in.
func (g *generator) rootRecord(b []byte, account string) []byte {
	session := g.rng.IntN(3)
	identity := func(b []byte) []byte {
		return fmt.Appendf(b, `{"type":"Root","principalId":"%s","arn":"arn:aws:iam::%s:root","accountId":"%s","accessKeyId":"ASIAROOTSESSION%s%d","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"2024-05-01T00:00:00Z","mfaAuthenticated":"true"}}}`, account, account, account, account[:4], session)
	}
	switch r := g.rng.IntN(100); {
	case r < 2:
		mfa := "Yes"
		if g.rng.IntN(4) == 0 {
			mfa = "No"
		}
		c := call{source: "signin.amazonaws.com", name: "ConsoleLogin", host: "signin.aws.amazon.com",
			response: func(b []byte) []byte { return append(b, `{"ConsoleLogin":"Success"}`...) },
			additional: func(b []byte) []byte {
				return fmt.Appendf(b, `{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%%23&isauthcode=true&state=hashArgsFromTB_us-east-1_%s","MobileVersion":"No","MFAUsed":"%s"}`, g.hex(nil, 16), mfa)
			}}
		return g.write(b, account, "us-east-1", func(b []byte) []byte {
			return fmt.Appendf(b, `{"type":"Root","principalId":"%s","arn":"arn:aws:iam::%s:root","accountId":"%s","accessKeyId":""}`, account, account, account)
		}, c, "AwsConsoleSignIn")
	case r < 70:
		name := []string{"ListUsers", "GetAccountSummary", "ListAccessKeys", "GetAccountPasswordPolicy", "AttachUserPolicy"}[g.rng.IntN(5)]
		if r := g.rng.IntN(1000); r < 2 { // the rare alarming calls
			name = []string{"CreateAccessKey", "DeactivateMFADevice"}[r]
		}
		c := call{source: "iam.amazonaws.com", name: name, host: "iam.amazonaws.com", readOnly: name[0] == 'L' || name[0] == 'G',
			params: func(b []byte) []byte {
				if name == "CreateAccessKey" || name == "AttachUserPolicy" {
					return append(b, `{"userName":"break-glass"}`...)
				}
				return append(b, "null"...)
			}}
		return g.write(b, account, "us-east-1", identity, c, "AwsApiCall")
	default:
		c := call{source: "s3.amazonaws.com", name: "ListBuckets", host: "s3.amazonaws.com", readOnly: true,
			params: func(b []byte) []byte { return append(b, `{"Host":"s3.amazonaws.com"}`...) }}
		if r >= 90 {
			c = call{source: "ec2.amazonaws.com", name: "DescribeRegions", host: "ec2.us-east-1.amazonaws.com", readOnly: true,
				params: func(b []byte) []byte { return append(b, `{"regionSet":{},"allRegions":true}`...) }}
		}
		return g.write(b, account, "us-east-1", identity, c, "AwsApiCall")
	}
}

// orgRecord is an Organizations call in the management account: mostly reads, some changes.
func (g *generator) orgRecord(b []byte) []byte {
	const mgmt = "111111111111"
	name := []string{"ListAccounts", "DescribeOrganization", "ListPoliciesForTarget", "DescribeAccount", "ListParents"}[g.rng.IntN(5)]
	if r := g.rng.IntN(100); r < 3 { // now and then a change
		name = []string{"DetachPolicy", "MoveAccount", "UpdatePolicy"}[r]
	}
	target := g.pick(genAccounts[1:])
	c := call{source: "organizations.amazonaws.com", name: name, host: "organizations.us-east-1.amazonaws.com", readOnly: name[0] == 'L' || name[0] == 'D' && name != "DetachPolicy",
		params: func(b []byte) []byte {
			switch name {
			case "DetachPolicy":
				return fmt.Appendf(b, `{"policyId":"p-%s","targetId":"%s"}`, g.hex(nil, 8), target)
			case "MoveAccount":
				return fmt.Appendf(b, `{"accountId":"%s","sourceParentId":"ou-ab12-%s","destinationParentId":"ou-ab12-%s"}`, target, g.hex(nil, 8), g.hex(nil, 8))
			case "UpdatePolicy":
				return fmt.Appendf(b, `{"policyId":"p-%s","description":"tag policy"}`, g.hex(nil, 8))
			case "ListPoliciesForTarget", "DescribeAccount", "ListParents":
				return fmt.Appendf(b, `{"targetId":"%s","accountId":"%s","filter":"SERVICE_CONTROL_POLICY"}`, target, target)
			}
			return append(b, "null"...)
		}}
	return g.write(b, mgmt, "us-east-1", g.identity(mgmt), c, "AwsApiCall")
}

// assumeRootRecord is sts:AssumeRoot from the management account.
func (g *generator) assumeRootRecord(b []byte) []byte {
	const mgmt = "111111111111"
	target := g.pick(genAccounts[1:])
	policy := []string{"IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials", "S3UnlockBucketPolicy"}[g.rng.IntN(3)]
	c := call{source: "sts.amazonaws.com", name: "AssumeRoot", host: "sts.us-west-2.amazonaws.com",
		params: func(b []byte) []byte {
			return fmt.Appendf(b, `{"targetPrincipal":"%s","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/%s"},"durationSeconds":900}`, target, policy)
		},
		response: func(b []byte) []byte {
			b = append(b, `{"credentials":{"accessKeyId":"ASIA`...)
			b = g.upper(b, 16)
			b = append(b, `","sessionToken":"IQoJb3JpZ2luX2VjE`...)
			b = g.base64(b, 400)
			return append(b, `","expiration":"May 1, 2024, 1:00:00 PM"}}`...)
		}}
	return g.write(b, mgmt, "us-west-2", g.identity(mgmt), c, "AwsApiCall")
}

// TestGenerator checks the benchmark's records: valid, of the intended sizes and mix.
func TestGenerator(t *testing.T) {
	g := newGenerator(7)
	const n = 5000
	var total, root, orgs, assumeRoot, small, large int
	for range n {
		rec := g.record(nil)
		ev, err := cloudtrail.Decode(rec)
		if err != nil {
			t.Fatalf("generated record does not decode: %v\n%s", err, rec)
		}
		total += len(rec)
		switch {
		case ev.IsRoot():
			root++
		case ev.EventSource == "organizations.amazonaws.com":
			orgs++
		case ev.EventName == "AssumeRoot":
			assumeRoot++
		}
		if len(rec) < 700 {
			small++
		}
		if len(rec) > 2600 {
			large++
		}
	}
	avg := total / n
	t.Logf("average %d bytes; root %d, organizations %d, AssumeRoot %d of %d", avg, root, orgs, assumeRoot, n)
	if avg < 1000 || avg > 1800 || small > n/50 || large > n/50 {
		t.Errorf("record sizes: average %d bytes, %d under 700 and %d over 2600", avg, small, large)
	}
	if root < n*12/1000 || root > n*18/1000 || orgs < n*3/1000 || orgs > n*7/1000 || assumeRoot == 0 {
		t.Errorf("mix: %d root, %d organizations, %d AssumeRoot of %d", root, orgs, assumeRoot, n)
	}
}
