package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// benchInput is a CloudTrail log file of about 8 MB made of the sample events (compacted), or
// of a fixed record when there are none.
func benchInput(b *testing.B) []byte {
	var recs [][]byte
	for _, rs := range sampleRecords(b) {
		for _, r := range rs {
			var c bytes.Buffer
			if _, err := Decode(r); err == nil && json.Compact(&c, r) == nil {
				recs = append(recs, c.Bytes())
			}
		}
	}
	if len(recs) == 0 {
		recs = append(recs, []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s","accountId":"111122223333","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2024-05-01T11:00:00Z"}}},"eventTime":"2024-05-01T12:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2.17.4","requestParameters":{"bucketName":"logs","key":"a/b/c.parquet"},"responseElements":null,"eventID":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`))
	}
	in := []byte(`{"Records":[`)
	for i := 0; len(in) < 8<<20; i++ {
		if i > 0 {
			in = append(in, ',')
		}
		in = append(in, recs[i%len(recs)]...)
	}
	return append(in, "]}"...)
}

// BenchmarkStream measures the scanner alone, on uncompressed input in memory.
func BenchmarkStream(b *testing.B) {
	in := benchInput(b)
	s := NewStream(nil)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.Reset(bytes.NewReader(in))
		for {
			rec, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if !rec.MayMatter() {
				_ = rec.CheckShape()
			}
		}
	}
}
