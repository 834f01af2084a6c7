package cloudtrail

import (
	"errors"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"not JSON", `{"a":`, ErrNotJSON, "not JSON: unexpected end of JSON input at byte 5"},
		{"array", `[1]`, ErrNotEvent, "not a CloudTrail event: a JSON array, not an object"},
		{"no names", `{"eventSource":"s3.amazonaws.com"}`, ErrNotEvent, "not a CloudTrail event: no eventName"},
		{"identity a string", `{"eventSource":"a","eventName":"b","userIdentity":"Root"}`, ErrWrongType,
			"wrong type: userIdentity is a JSON string where an object belongs"},
		{"nested field in an envelope", `{"detail-type":"d","detail":{"eventSource":"a","eventName":"b","userIdentity":{"sessionContext":{"attributes":[]}}}}`, ErrWrongType,
			"wrong type: detail.userIdentity.sessionContext.attributes is a JSON array where an object belongs"},
		{"envelope field", `{"detail-type":"d","id":5,"detail":{}}`, ErrWrongType, "wrong type: id is a JSON number where a string belongs"},
		{"readOnly", `{"eventSource":"a","eventName":"b","readOnly":"yes"}`, ErrWrongType, "wrong type: readOnly is a JSON string where a boolean belongs"},
		{"request parameters", `{"eventSource":"a","eventName":"b","requestParameters":[]}`, ErrWrongType,
			"wrong type: requestParameters is a JSON array where an object belongs"},
		{"service event details", `{"eventSource":"a","eventName":"b","serviceEventDetails":{"createAccountStatus":{"state":1}}}`, ErrWrongType,
			"wrong type: serviceEventDetails.createAccountStatus.state is a JSON number where a string belongs"},
		{"parameter in an envelope", `{"detail-type":"d","detail":{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","requestParameters":{"policyId":7}}}`, ErrWrongType,
			"wrong type: detail.requestParameters.policyId is a JSON number where a string belongs"},
		{"MFAUsed", `{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":true}}`, ErrWrongType,
			"wrong type: additionalEventData.MFAUsed is a JSON boolean where a string belongs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Errorf("Decode: %v\nwant %q (%v)", err, tt.msg, tt.want)
			}
		})
	}
}
