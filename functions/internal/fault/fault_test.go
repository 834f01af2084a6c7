package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault}
}

func respErr(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"throttling", apiErr("Throttling", smithy.FaultClient), true},
		{"eventbridge throttling", apiErr("ThrottlingException", smithy.FaultClient), true},
		{"security hub limit", apiErr("LimitExceededException", smithy.FaultClient), true},
		{"sns internal error", apiErr("InternalError", smithy.FaultServer), true},
		{"unknown server fault", apiErr("Whatever", smithy.FaultServer), true},
		{"odd throttle spelling", apiErr("KMSThrottledSomething", smithy.FaultClient), true},
		{"topic deleted", apiErr("NotFound", smithy.FaultClient), false},
		{"goaws topic deleted", apiErr("TopicNotFound", smithy.FaultClient), false},
		{"bad parameter", apiErr("InvalidParameter", smithy.FaultClient), false},
		{"access denied", apiErr("AccessDeniedException", smithy.FaultClient), false},
		{"5xx without code", respErr(503, errors.New("unavailable")), true},
		{"4xx wrapping a client fault", respErr(400, apiErr("ValidationException", smithy.FaultClient)), false},
		{"deadline", fmt.Errorf("put: %w", context.DeadlineExceeded), true},
		{"canceled", context.Canceled, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{"partial", fmt.Errorf("import: %w: 1 of 2 failed", ErrPartial), true},
		{"permanent", fmt.Errorf("render: %w", ErrPermanent), false},
		{"unknown kind", errors.New("something"), true},
		{"already classified", &Error{Channel: "chat", Retryable: false, Err: apiErr("Throttling", smithy.FaultClient)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassified(t *testing.T) {
	if Classified("alerts", nil) != nil {
		t.Error("Classified(nil) is not nil")
	}
	err := Classified("alerts", apiErr("NotFound", smithy.FaultClient))
	var e *Error
	if !errors.As(err, &e) || e.Channel != "alerts" || e.Retryable {
		t.Fatalf("Classified = %#v, want a permanent alerts error", err)
	}
	if got := err.Error(); got != "deliver to alerts (permanent): api error NotFound: m" {
		t.Errorf("Error() = %q", got)
	}
	if again := Classified("chat", err); again != err {
		t.Errorf("re-classifying changed the error: %v", again)
	}
	if r := Classified("bus", ErrPartial).Error(); r != "deliver to bus (retryable): partial failure" {
		t.Errorf("Error() = %q", r)
	}
}
