package replay

import (
	"fmt"
	"regexp"
	"time"
)

// DeliveryMargin is how long after an event CloudTrail may deliver the log file that holds it,
// as far as a time window is concerned: an S3 replay with --until T still lists and fetches the
// log files delivered up to T + DeliveryMargin (CloudTrail delivers within about five minutes
// on average), so that the events of the window's last minutes are not lost.
const DeliveryMargin = time.Hour

// Window restricts a replay to the events whose eventTime is in [Since, Until]. A zero bound is
// open. Records that cannot raise a finding are not decoded and so not looked at; an event
// whose time is missing or not RFC 3339 is kept (the window does not hide what it cannot date).
// For S3 inputs the window also prunes the listing: see ParseS3URI and the README.
type Window struct {
	Since time.Time
	Until time.Time
}

// IsZero reports whether the window is open at both ends.
func (w Window) IsZero() bool { return w.Since.IsZero() && w.Until.IsZero() }

// Contains reports whether an event time (RFC 3339 text) is inside the window.
func (w Window) Contains(eventTime string) bool {
	if w.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, eventTime)
	if err != nil {
		return true
	}
	return (w.Since.IsZero() || !t.Before(w.Since)) && (w.Until.IsZero() || !t.After(w.Until))
}

// deliveredIn reports whether a log file delivered at t (its name's time) may hold events of
// the window: not delivered before Since, nor later than Until + DeliveryMargin.
func (w Window) deliveredIn(t time.Time) bool {
	return (w.Since.IsZero() || !t.Before(w.Since.Truncate(time.Minute))) &&
		(w.Until.IsZero() || !t.After(w.Until.Add(DeliveryMargin)))
}

// dayIn reports whether a log-file folder of this day (UTC) may hold events of the window.
func (w Window) dayIn(day time.Time) bool {
	end := day.AddDate(0, 0, 1)
	return (w.Since.IsZero() || end.After(w.Since)) && (w.Until.IsZero() || !day.After(w.Until.Add(DeliveryMargin)))
}

// ParseWindow reads the --since and --until values: a date (YYYY-MM-DD, UTC; --since starts at
// the day's first instant, --until includes the whole day) or an RFC 3339 time; "" is open.
// It fails when a value is neither, or when since is after until.
func ParseWindow(since, until string) (Window, error) {
	var w Window
	var err error
	if since != "" {
		if w.Since, err = parseBound(since, false); err != nil {
			return Window{}, fmt.Errorf("--since %q: %w", since, err)
		}
	}
	if until != "" {
		if w.Until, err = parseBound(until, true); err != nil {
			return Window{}, fmt.Errorf("--until %q: %w", until, err)
		}
	}
	if !w.Since.IsZero() && !w.Until.IsZero() && w.Since.After(w.Until) {
		return Window{}, fmt.Errorf("--since %s is after --until %s", since, until)
	}
	return w, nil
}

func parseBound(s string, endOfDay bool) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if endOfDay {
			return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date (2024-05-01) or an RFC 3339 time (2024-05-01T12:00:00Z)")
	}
	return t.UTC(), nil
}

// logFileTime matches the delivery time in a CloudTrail log file name:
// <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz.
var logFileTime = regexp.MustCompile(`_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_[^/]*$`)

// fileTime returns the delivery time in a CloudTrail log file's key, if it has one.
func fileTime(key string) (time.Time, bool) {
	m := logFileTime.FindStringSubmatch(key)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", m[1])
	return t, err == nil
}
