package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3API is the part of the S3 client a replay uses (*s3.Client has it).
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3URI is a parsed s3://bucket/prefix input.
type S3URI struct {
	Bucket string
	Prefix string
}

// String returns the URI as s3://bucket/prefix.
func (u S3URI) String() string { return "s3://" + u.Bucket + "/" + u.Prefix }

// IsS3URI reports whether an input argument names S3 (starts with s3://, any case).
func IsS3URI(arg string) bool { return len(arg) >= 5 && strings.EqualFold(arg[:5], "s3://") }

// bucketName is S3's rule for (general purpose) bucket names: 3 to 63 lower-case letters,
// digits, dots and hyphens, starting and ending with a letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseS3URI reads s3://bucket/prefix. The prefix is used as given (keys that start with it);
// "" or "/" means the whole bucket.
func ParseS3URI(arg string) (S3URI, error) {
	if !IsS3URI(arg) {
		return S3URI{}, fmt.Errorf("bad S3 URI %q: want s3://BUCKET/PREFIX", arg)
	}
	rest := arg[5:]
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3URI{}, fmt.Errorf("bad S3 URI %q: no bucket name (want s3://BUCKET/PREFIX)", arg)
	}
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return S3URI{}, fmt.Errorf("bad S3 URI %q: %q is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", arg, bucket)
	}
	return S3URI{Bucket: bucket, Prefix: prefix}, nil
}

// NewS3Client returns an S3 client from the usual AWS configuration chain (environment,
// profiles, SSO, instance roles). getenv is how the environment is read for the region
// (AWS_REGION, then AWS_DEFAULT_REGION; us-east-1 when neither is set: a bucket elsewhere is
// then found through S3's redirect) and for a custom endpoint (AWS_ENDPOINT_URL_S3, then
// AWS_ENDPOINT_URL), which is addressed path-style (http://host/bucket/key), as S3-compatible
// servers expect.
func NewS3Client(ctx context.Context, getenv func(string) string) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if r := firstSet(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := firstSet(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"))
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// S3Error is a failed S3 call, said plainly: what failed, on which bucket or key, and what to
// do about it. Err is the SDK's error.
type S3Error struct {
	Op   string // "list" or "get"
	URI  string // s3://bucket/prefix or s3://bucket/key
	What string // the plain reason
	Err  error
}

// Error returns "get: reason" (an InputError's File names the URI).
func (e *S3Error) Error() string { return e.Op + ": " + e.What }

// Unwrap returns the SDK's error.
func (e *S3Error) Unwrap() error { return e.Err }

// s3Error explains an SDK error of a list or get call.
func s3Error(op, uri string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code, msg := "", err.Error()
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg = api.ErrorCode(), api.ErrorMessage()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	detail := code
	if msg != "" && msg != code {
		detail = strings.TrimSpace(code + " " + msg)
	}
	var what string
	switch {
	case code == "NoSuchBucket":
		what = "no such bucket"
	case code == "NoSuchKey":
		what = "no such key (deleted since it was listed?)"
	case code == "InvalidObjectState":
		what = "the object is archived (Glacier or Deep Archive): restore it first"
	case code == "PermanentRedirect" || status == http.StatusMovedPermanently:
		what = "the bucket is in another region: set AWS_REGION to it"
	case code == "AccessDenied" || code == "AllAccessDisabled" || status == http.StatusForbidden && code == "":
		if op == "list" {
			what = "access denied (" + detail + "): rootguard needs s3:ListBucket on the bucket"
		} else {
			what = "access denied (" + detail + "): rootguard needs s3:GetObject on the key, and kms:Decrypt on its KMS key for SSE-KMS objects"
		}
	case code != "":
		what = detail
	default:
		what = err.Error()
	}
	return &S3Error{Op: op, URI: uri, What: what, Err: err}
}

// redirectRegion returns the region S3 names in a wrong-region answer (a 301 redirect, or a
// 400 whose signature was made for another region), or "".
func redirectRegion(err error) string {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	switch re.HTTPStatusCode() {
	case http.StatusMovedPermanently, http.StatusBadRequest:
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}
