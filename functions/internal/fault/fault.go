// Package fault classifies rootguard's delivery errors, in one place: retryable (trying again may
// succeed) or permanent (a person must act). It is a leaf package, so that both the evaluators'
// event bus publisher and the notifier's destinations use it without linking each other's AWS
// clients.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrPartial: the service accepted the call but refused some of its entries (EventBridge
// FailedEntryCount, Security Hub FailedCount).
var ErrPartial = errors.New("partial failure")

// Error is a delivery failure on one channel, classified once (see Classify).
type Error struct {
	// Channel is the destination: "alerts", "chat", "securityhub" or "bus".
	Channel string
	// Retryable: trying again may succeed (throttling, a 5xx, the network, a partial failure).
	// Otherwise the failure is permanent (a deleted topic, a refused parameter, missing
	// permissions) and needs a person; it is still returned so that the event reaches the
	// on-failure destination instead of being lost.
	Retryable bool
	Err       error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "retryable"
	}
	return fmt.Sprintf("deliver to %s (%s): %v", e.Channel, kind, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Classified wraps err in an *Error for channel, classified by Classify; nil stays nil, and an
// *Error is returned as it is.
func Classified(channel string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Channel: channel, Retryable: Classify(err), Err: err}
}

// retryableCodes are AWS error codes that may succeed when tried again.
var retryableCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"TooManyRequestsException": true, "RequestLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "RequestThrottledException": true, "SlowDown": true,
	"InternalError": true, "InternalFailure": true, "InternalErrorException": true,
	"InternalException": true, "ServiceUnavailable": true, "ServiceUnavailableException": true,
	"KMSThrottling": true, "KMSThrottlingException": true, "RequestTimeout": true,
	"RequestTimeoutException": true, "PriorRequestNotComplete": true,
}

// Classify is the one place delivery errors are classified: true when trying again may succeed.
// Deadlines, network errors, 5xx answers, throttling and partial failures are retryable; an AWS
// error answer with any other code (NotFound for a deleted topic, InvalidParameter,
// AuthorizationError, AccessDenied, ...) and a finding that cannot be rendered are permanent.
// An error of unknown kind is retryable: Lambda's retries are bounded, and losing an alert is
// worse than a retry too many.
func Classify(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	switch {
	case errors.Is(err, ErrPartial), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	case errors.Is(err, ErrPermanent):
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if retryableCodes[code] || strings.Contains(strings.ToLower(code), "throttl") {
			return true
		}
		return api.ErrorFault() == smithy.FaultServer
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return true
}

// ErrPermanent marks an error that trying again cannot fix (a finding that cannot be rendered,
// an input that is not a finding).
var ErrPermanent = errors.New("permanent")
