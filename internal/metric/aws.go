package metric

import (
	"context"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// AWSCallCounter returns an AWS SDK API option (for aws.Config.APIOptions) that counts every
// operation call as AWSCalls, and every call that still failed after the SDK's retries as
// AWSCallErrors, by Service and Operation.
func (r *Recorder) AWSCallCounter() func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("rootguardCallCounter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				dims := []Dim{{"Service", awsmiddleware.GetServiceID(ctx)}, {"Operation", awsmiddleware.GetOperationName(ctx)}}
				r.Add(AWSCalls, 1, dims...)
				if err != nil {
					r.Add(AWSCallErrors, 1, dims...)
				}
				return out, md, err
			}), middleware.Before)
	}
}

// AWSCall counts one AWS call made outside the SDK middleware (the organization facts report
// theirs this way): AWSCalls, and AWSCallErrors when err is not nil.
func (r *Recorder) AWSCall(service, operation string, err error) {
	dims := []Dim{{"Service", service}, {"Operation", operation}}
	r.Add(AWSCalls, 1, dims...)
	if err != nil {
		r.Add(AWSCallErrors, 1, dims...)
	}
}
